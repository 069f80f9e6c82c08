// Reading and writing images and label maps. Images decode (JPEG, PNG, BMP through stb) to 8-bit
// RGB or gray whatever the file holds (gray, palette, gray+alpha and RGBA are converted; alpha is
// dropped, not composited). Label maps decode with rtseg's own PNG reader so that values stay
// exactly as stored: 8/16-bit gray values, or the *indices* of palette PNGs (never their colours).
// Every failure is a DataError naming the file: missing, truncated, corrupt, or wrong format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/png_codec.h"

namespace rtseg::data {

enum class FileFormat { Png, Jpeg, Bmp, Unknown };
FileFormat sniff_format(const uint8_t* bytes, size_t size);

std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// channels: 3 (RGB) or 1 (gray, ITU-R 601 luma as stb computes it).
Image decode_image(const uint8_t* bytes, size_t size, const std::string& source, int channels = 3);
Image read_image(const std::string& path, int channels = 3);

// A single-channel PNG (gray 1..16 bit, or palette) as raw values. RGB/RGBA/gray+alpha PNGs
// and non-PNG files are rejected with a Format error (class ids must not pass through a lossy
// or colour format); colour-coded labels are read with read_image and mapped by a palette.
Label decode_label(const uint8_t* bytes, size_t size, const std::string& source);
Label read_label(const std::string& path);

// PNG encoding. Images: 1, 3 or 4 channels, 8-bit. Labels: 8-bit gray (values 0..255) or 16-bit
// gray (0..65535); or a palette PNG whose indices are the label values.
std::vector<uint8_t> encode_png(const Image& image);
void write_png(const std::string& path, const Image& image);
// JPEG (stb's baseline encoder): 1 or 3 channels.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
void write_jpeg(const std::string& path, const Image& image, int quality = 90);
void write_label_png(const std::string& path, const Label& label, int bit_depth = 8);
void write_palette_png(const std::string& path, const Label& label,
                       const std::vector<png::Rgb>& palette);

}  // namespace rtseg::data
