// Plain host buffers the data pipeline works on before anything becomes a Tensor: an 8-bit
// image (HWC, row-major), a label map of class ids and a float map (e.g. a complexity map).
// They are deliberately dumb structs: decoding, augmenting and collating are free functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtseg::data {

// HWC uint8; channels is 1 (gray) or 3 (RGB) in practice.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  Image(int w, int h, int c, uint8_t value = 0)
      : width(w), height(h), channels(c), pixels(static_cast<std::size_t>(w) * h * c, value) {}
  bool empty() const { return pixels.empty(); }
  std::size_t index(int x, int y, int c = 0) const {
    return (static_cast<std::size_t>(y) * width + x) * channels + c;
  }
  uint8_t& at(int x, int y, int c = 0) { return pixels[index(x, y, c)]; }
  uint8_t at(int x, int y, int c = 0) const { return pixels[index(x, y, c)]; }
};

// A per-pixel map of values of type T (HW, row-major).
template <typename T>
struct Map2D {
  int width = 0, height = 0;
  std::vector<T> values;

  Map2D() = default;
  Map2D(int w, int h, T value = T())
      : width(w), height(h), values(static_cast<std::size_t>(w) * h, value) {}
  bool empty() const { return values.empty(); }
  T& at(int x, int y) { return values[static_cast<std::size_t>(y) * width + x]; }
  T at(int x, int y) const { return values[static_cast<std::size_t>(y) * width + x]; }
};

// Class ids (255 = ignored unless a dataset says otherwise). int16 holds the raw values of
// 8-bit label PNGs, the ignore value, and 16-bit PNG values up to 32767.
using Label = Map2D<int16_t>;
// Per-pixel float values that follow the image's geometry (complexity maps).
using FloatMap = Map2D<float>;

}  // namespace rtseg::data
