// A small PNG reader/writer of rtseg's own, for what stb cannot do: check a file's structure
// (chunk lengths, CRCs, a missing IEND = truncation) and decode *label* PNGs without changing
// their values — palette indices stay indices (stb expands palettes to colours) and 16-bit gray
// values stay 16-bit (stb keeps only the high byte). The writer produces 8-bit gray/RGB/RGBA,
// palette and 16-bit gray PNGs (labels, predictions, test fixtures).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rtseg::data::png {

using Rgb = std::array<uint8_t, 3>;

enum ColorType : int { Gray = 0, RGB = 2, Palette = 3, GrayAlpha = 4, RGBA = 6 };

struct Header {
  int width = 0, height = 0, bit_depth = 0, color_type = 0, interlace = 0;
  int channels() const;  // samples per pixel as stored (palette: 1 index)
};

struct Info {
  Header header;
  std::vector<Rgb> palette;   // PLTE entries (palette images)
  std::vector<uint8_t> idat;  // concatenated IDAT payloads (a zlib stream)
};

bool is_png(const uint8_t* bytes, size_t size);

// Validates signature, chunk lengths and CRCs, IHDR first and sane, PLTE before IDAT for palette
// images, at least one IDAT, and IEND (its absence means the file is truncated). Throws a
// DataError (Corrupt / Format) naming `source`.
Info parse(const uint8_t* bytes, size_t size, const std::string& source);

// Samples as stored, row-major, `channels` per pixel: gray values, palette *indices* (checked
// against the palette size), RGB(A); 1/2/4-bit samples unpacked, 16-bit kept; Adam7 handled.
struct Raw {
  Header header;
  std::vector<Rgb> palette;
  std::vector<uint16_t> samples;
};
Raw decode_raw(const uint8_t* bytes, size_t size, const std::string& source);

// Encodes samples (row-major, channels per colour type) as a PNG. bit_depth 8 for every colour
// type, or 16 for Gray. Palette images need 1..256 palette entries and indices below that.
std::vector<uint8_t> encode(int width, int height, ColorType color_type, int bit_depth,
                            const std::vector<uint16_t>& samples,
                            const std::vector<Rgb>& palette = {});

uint32_t crc32(const uint8_t* bytes, size_t size, uint32_t crc = 0);

}  // namespace rtseg::data::png
