// The only place rtseg calls stb (stb_image / stb_image_write): JPEG/PNG/BMP decoding and the
// zlib streams the PNG code needs. The stb implementations are compiled static into
// stb_codec.cpp, so rtseg never clashes with another copy of stb linked into an application.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace rtseg::data::stb {

// Decodes a JPEG/PNG/BMP held in memory to `channels` channels (1 or 3; stb converts gray,
// palette and alpha images). Returns false and sets `reason` when stb rejects the data.
bool decode(const uint8_t* bytes, size_t size, int channels, Image& out, std::string& reason);

// JPEG encoding of an 8-bit image with 1 or 3 channels; quality 1..100.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality);

// Inflates a zlib stream (with its 2-byte header). Returns false on malformed data.
bool zlib_inflate(const uint8_t* bytes, size_t size, std::vector<uint8_t>& out);

// A zlib stream (header, deflate data, Adler-32) of `size` bytes; quality as stb's (8 default).
std::vector<uint8_t> zlib_deflate(const uint8_t* bytes, size_t size, int quality = 8);

}  // namespace rtseg::data::stb
