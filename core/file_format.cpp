#include "core/file_format.h"

#include <algorithm>
#include <cstring>

namespace rtseg {

namespace {

bool starts_with(const uint8_t* bytes, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(bytes, magic, n) == 0;
}

bool looks_like_text(const uint8_t* bytes, size_t size) {
  const size_t n = std::min<size_t>(size, 512);
  if (n == 0) return false;
  size_t skip = starts_with(bytes, size, "\xEF\xBB\xBF", 3) ? 3 : 0;  // a UTF-8 byte-order mark
  for (size_t i = skip; i < n; ++i) {
    const uint8_t c = bytes[i];
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return true;
}

// torch.save's three layouts: zip (since 1.6), pickle protocol 2-5, and the old tar format.
bool is_zip(const uint8_t* bytes, size_t size) { return starts_with(bytes, size, "PK\x03\x04", 4); }
bool is_pickle(const uint8_t* bytes, size_t size) {
  return size >= 2 && bytes[0] == 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}
bool is_tar(const uint8_t* bytes, size_t size) {
  return size >= 262 && std::memcmp(bytes + 257, "ustar", 5) == 0;
}

}  // namespace

bool looks_like_pytorch_checkpoint(const uint8_t* bytes, size_t size) {
  return is_zip(bytes, size) || is_pickle(bytes, size) || is_tar(bytes, size);
}

std::string describe_foreign_format(const uint8_t* bytes, size_t size) {
  const char* convert = ": convert it with `rtseg convert IN.pth OUT.safetensors --net NET`";
  if (is_zip(bytes, size)) {
    return std::string("a PyTorch checkpoint (a zip archive, as torch.save writes)") + convert;
  }
  if (is_pickle(bytes, size)) {
    return std::string("a PyTorch checkpoint (a Python pickle, as older torch.save writes)") +
           convert;
  }
  if (is_tar(bytes, size)) {
    return std::string("a PyTorch checkpoint (a tar archive, as torch.save before 1.0 wrote)") +
           convert;
  }
  if (starts_with(bytes, size, "\x89PNG\r\n\x1a\n", 8)) return "a PNG image, not weights";
  if (starts_with(bytes, size, "\xFF\xD8\xFF", 3)) return "a JPEG image, not weights";
  if (starts_with(bytes, size, "\x93NUMPY", 6))
    return "a NumPy array (.npy), not safetensors weights";
  if (starts_with(bytes, size, "\x89HDF\r\n\x1a\n", 8))
    return "an HDF5 file (Keras?), not safetensors weights";
  if (starts_with(bytes, size, "GGUF", 4)) return "a GGUF file, not safetensors weights";
  if (starts_with(bytes, size, "\x1f\x8b", 2)) return "a gzip file: unpack it first";
  if (looks_like_text(bytes, size)) return "a text file (a YAML config or a list?), not weights";
  return "";
}

}  // namespace rtseg
