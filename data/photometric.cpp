#include "data/photometric.h"

#include <array>
#include <cmath>

#include "kernels/error.h"

namespace rtseg::data {

namespace {

void check_rgb(const Image& image, const char* op) {
  RTSEG_CHECK(image.channels == 3 && !image.empty(), "{}: needs an RGB image, got {} channels", op,
              image.channels);
}

// PIL's Image.blend of two 8-bit values (computed in float, as PIL does): truncated, clipped.
uint8_t pil_blend(int a, int b, float f) {
  const float v = float(a) + f * float(b - a);
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return uint8_t(v);
}

}  // namespace

uint8_t pil_luma(uint8_t r, uint8_t g, uint8_t b) {
  return uint8_t((uint32_t(r) * 19595 + uint32_t(g) * 38470 + uint32_t(b) * 7471 + 0x8000) >> 16);
}

void adjust_gamma(Image& rgb, double gamma) {
  check_rgb(rgb, "adjust_gamma");
  RTSEG_CHECK(gamma > 0, "adjust_gamma: gamma must be positive, got {}", gamma);
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v)
    lut[size_t(v)] = uint8_t(int((255 + 1 - 1e-3) * std::pow(v / 255.0, gamma)));
  for (uint8_t& p : rgb.pixels) p = lut[p];
}

void adjust_saturation(Image& rgb, double factor) {
  check_rgb(rgb, "adjust_saturation");
  const float f = float(factor);
  for (size_t i = 0; i < rgb.pixels.size(); i += 3) {
    uint8_t* p = &rgb.pixels[i];
    const int gray = pil_luma(p[0], p[1], p[2]);
    for (int c = 0; c < 3; ++c) p[c] = pil_blend(gray, p[c], f);
  }
}

void adjust_contrast(Image& rgb, double factor) {
  check_rgb(rgb, "adjust_contrast");
  double sum = 0.0;
  for (size_t i = 0; i < rgb.pixels.size(); i += 3)
    sum += pil_luma(rgb.pixels[i], rgb.pixels[i + 1], rgb.pixels[i + 2]);
  const int mean = int(sum / double(rgb.pixels.size() / 3) + 0.5);
  const float f = float(factor);
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) lut[size_t(v)] = pil_blend(mean, v, f);
  for (uint8_t& p : rgb.pixels) p = lut[p];
}

void normalize_into(const Image& rgb, Normalization mode, float* out) {
  check_rgb(rgb, "normalize");
  // One lookup table per output plane: (plane, source channel) and value → float.
  std::array<std::array<float, 256>, 3> lut;
  std::array<int, 3> source{0, 1, 2};
  for (int plane = 0; plane < 3; ++plane) {
    for (int v = 0; v < 256; ++v) {
      float x = 0.0f;
      switch (mode) {
        case Normalization::ImageNet: {
          static const float mean[3] = {0.485f, 0.456f, 0.406f},
                             stdev[3] = {0.229f, 0.224f, 0.225f};
          x = (float(v) / 255.0f - mean[plane]) / stdev[plane];
          break;
        }
        case Normalization::CifrenetBGR: {
          static const double mean_bgr[3] = {73.16, 82.91, 72.39};
          source = {2, 1, 0};
          x = float((double(v) - mean_bgr[plane]) / 255.0);
          break;
        }
        case Normalization::Unit:
          x = float(v) / 255.0f;
          break;
      }
      lut[size_t(plane)][size_t(v)] = x;
    }
  }
  const size_t hw = size_t(rgb.width) * rgb.height;
  for (int plane = 0; plane < 3; ++plane) {
    const std::array<float, 256>& table = lut[size_t(plane)];
    const uint8_t* src = rgb.pixels.data() + source[size_t(plane)];
    float* dst = out + size_t(plane) * hw;
    for (size_t i = 0; i < hw; ++i) dst[i] = table[src[3 * i]];
  }
}

Tensor to_tensor(const Image& rgb, Normalization mode) {
  check_rgb(rgb, "to_tensor");
  Tensor t = Tensor::empty({3, rgb.height, rgb.width}, DType::F32);
  normalize_into(rgb, mode, t.data<float>());
  return t;
}

}  // namespace rtseg::data
