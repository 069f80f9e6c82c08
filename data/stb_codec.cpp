// stb is compiled here, static, with only the decoders rtseg reads (JPEG, PNG, BMP) and without
// stdio (rtseg reads files itself, so it can report missing and truncated files precisely).
// stb's failure reason is thread-local, so decoding in several loader threads is safe.
// GCC's flow analysis reports stb's (valid) lazily initialised io callbacks once they are
// inlined here, outside the system-header suppression; the warning is silenced for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

#include <climits>
#include <cstring>

#include "data/stb_codec.h"

namespace rtseg::data::stb {

bool decode(const uint8_t* bytes, size_t size, int channels, Image& out, std::string& reason) {
  if (size > static_cast<size_t>(INT_MAX)) {
    reason = "file larger than 2 GiB";
    return false;
  }
  int w = 0, h = 0, file_channels = 0;
  stbi_uc* pixels =
      stbi_load_from_memory(bytes, static_cast<int>(size), &w, &h, &file_channels, channels);
  if (pixels == nullptr) {
    const char* why = stbi_failure_reason();
    reason = why ? why : "unknown stb error";
    return false;
  }
  out.width = w;
  out.height = h;
  out.channels = channels;
  out.pixels.assign(pixels, pixels + static_cast<size_t>(w) * h * channels);
  stbi_image_free(pixels);
  return true;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  std::vector<uint8_t> out;
  auto append = [](void* context, void* data, int size) {
    auto* bytes = static_cast<std::vector<uint8_t>*>(context);
    bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (!stbi_write_jpg_to_func(append, &out, image.width, image.height, image.channels,
                              image.pixels.data(), quality)) {
    out.clear();
  }
  return out;
}

bool zlib_inflate(const uint8_t* bytes, size_t size, std::vector<uint8_t>& out) {
  if (size > static_cast<size_t>(INT_MAX)) return false;
  int out_len = 0;
  char* data = stbi_zlib_decode_malloc_guesssize_headerflag(
      reinterpret_cast<const char*>(bytes), static_cast<int>(size), 1 << 16, &out_len, 1);
  if (data == nullptr) return false;
  out.assign(reinterpret_cast<uint8_t*>(data), reinterpret_cast<uint8_t*>(data) + out_len);
  STBI_FREE(data);
  return true;
}

std::vector<uint8_t> zlib_deflate(const uint8_t* bytes, size_t size, int quality) {
  int out_len = 0;
  // stb's compressor takes a non-const pointer but does not write through it.
  unsigned char* data = stbi_zlib_compress(const_cast<unsigned char*>(bytes),
                                           static_cast<int>(size), &out_len, quality);
  std::vector<uint8_t> out(data, data + out_len);
  STBIW_FREE(data);
  return out;
}

}  // namespace rtseg::data::stb
