#include "data/geometry.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/error.h"

namespace rtseg::data {

namespace {

// Source taps and weights of one output coordinate of an INTER_LINEAR resize.
struct Tap {
  int i0, i1;
  float w1;  // weight of i1; i0 gets 1 − w1
};

std::vector<Tap> linear_taps(int in, int out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  const double scale = double(in) / out;
  for (int o = 0; o < out; ++o) {
    const double f = (o + 0.5) * scale - 0.5;
    int i0 = int(std::floor(f));
    double w = f - i0;
    if (i0 < 0) {
      i0 = 0;
      w = 0.0;
    }
    if (i0 >= in - 1) {
      i0 = in - 1;
      w = 0.0;
    }
    taps[size_t(o)] = {i0, std::min(i0 + 1, in - 1), float(w)};
  }
  return taps;
}

std::vector<int> nearest_index(int in, int out);

// The window [ox, ox+ow) × [oy, oy+oh) of a virtual dw×dh INTER_LINEAR resize of `src`
// (sw×sh×channels) into `dst` (ow×oh×channels); window pixels beyond dw×dh get `fill`. Resizing
// only the window lets scale-then-crop skip the pixels the crop throws away.
template <typename T>
void resize_linear_window(const T* src, int sw, int sh, int channels, int dw, int dh, int ox,
                          int oy, int ow, int oh, T* dst, T fill) {
  const int inside_w = std::clamp(dw - ox, 0, ow);  // window columns that lie in the resized image
  std::vector<Tap> xt = linear_taps(sw, dw), yt = linear_taps(sh, dh);
  std::vector<size_t> off0(static_cast<size_t>(inside_w)), off1(static_cast<size_t>(inside_w));
  std::vector<float> wx(static_cast<size_t>(inside_w));
  for (int x = 0; x < inside_w; ++x) {
    const Tap& t = xt[size_t(ox + x)];
    off0[size_t(x)] = size_t(t.i0) * channels;
    off1[size_t(x)] = size_t(t.i1) * channels;
    wx[size_t(x)] = t.w1;
  }
  const size_t n = size_t(inside_w) * channels;
  std::vector<float> row0(n), row1(n);
  auto horizontal = [&](int y, std::vector<float>& out) {
    const T* r = src + size_t(y) * sw * channels;
    float* o = out.data();
    for (int x = 0; x < inside_w; ++x) {
      const T* a = r + off0[size_t(x)];
      const T* b = r + off1[size_t(x)];
      const float w = wx[size_t(x)];
      for (int c = 0; c < channels; ++c) *o++ = float(a[c]) + (float(b[c]) - float(a[c])) * w;
    }
  };
  int have0 = -1, have1 = -1;
  for (int y = 0; y < oh; ++y) {
    T* out = dst + size_t(y) * ow * channels;
    std::fill(out + n, out + size_t(ow) * channels, fill);
    if (oy + y >= dh) {
      std::fill(out, out + n, fill);
      continue;
    }
    const Tap& t = yt[size_t(oy + y)];
    if (have0 != t.i0) {
      if (have1 == t.i0) {
        row0.swap(row1);
        std::swap(have0, have1);
      } else {
        horizontal(t.i0, row0);
        have0 = t.i0;
      }
    }
    if (have1 != t.i1) {
      horizontal(t.i1, row1);
      have1 = t.i1;
    }
    const float w = t.w1;
    for (size_t i = 0; i < n; ++i) {
      const float v = row0[i] + (row1[i] - row0[i]) * w;
      if constexpr (std::is_same_v<T, uint8_t>) {
        out[i] = uint8_t(v + 0.5f);  // a convex blend of 0..255 values: no clamping needed
      } else {
        out[i] = T(v);
      }
    }
  }
}

// The same window of an INTER_NEAREST resize.
template <typename T>
void resize_nearest_window(const T* src, int sw, int sh, int dw, int dh, int ox, int oy, int ow,
                           int oh, T* dst, T fill) {
  const std::vector<int> xs = nearest_index(sw, dw), ys = nearest_index(sh, dh);
  const int inside_w = std::clamp(dw - ox, 0, ow);
  for (int y = 0; y < oh; ++y) {
    T* out = dst + size_t(y) * ow;
    std::fill(out + inside_w, out + ow, fill);
    if (oy + y >= dh) {
      std::fill(out, out + inside_w, fill);
      continue;
    }
    const T* row = src + size_t(ys[size_t(oy + y)]) * sw;
    for (int x = 0; x < inside_w; ++x) out[x] = row[xs[size_t(ox + x)]];
  }
}

std::vector<int> nearest_index(int in, int out) {
  std::vector<int> idx(static_cast<size_t>(out));
  const double scale = double(in) / out;
  for (int o = 0; o < out; ++o) idx[size_t(o)] = std::min(int(std::floor(o * scale)), in - 1);
  return idx;
}

template <typename T>
Map2D<T> pad_map(const Map2D<T>& m, int w, int h, T fill) {
  Map2D<T> out(w, h, fill);
  for (int y = 0; y < m.height; ++y)
    std::copy_n(&m.values[size_t(y) * m.width], m.width, &out.values[size_t(y) * w]);
  return out;
}

template <typename T>
Map2D<T> crop_map(const Map2D<T>& m, int x, int y, int w, int h) {
  Map2D<T> out(w, h);
  for (int r = 0; r < h; ++r)
    std::copy_n(&m.values[size_t(y + r) * m.width + x], w, &out.values[size_t(r) * w]);
  return out;
}

template <typename T>
void flip_map(Map2D<T>& m) {
  for (int y = 0; y < m.height; ++y)
    std::reverse(m.values.begin() + ptrdiff_t(y) * m.width,
                 m.values.begin() + ptrdiff_t(y + 1) * m.width);
}

void check_dims(int width, int height, const char* op) {
  RTSEG_CHECK(width > 0 && height > 0, "{}: target size {}x{} must be positive", op, width, height);
}

}  // namespace

Image resize_bilinear(const Image& image, int width, int height) {
  check_dims(width, height, "resize_bilinear");
  RTSEG_CHECK(!image.empty(), "resize_bilinear: empty image");
  if (image.width == width && image.height == height) return image;
  Image out(width, height, image.channels);
  resize_linear_window(image.pixels.data(), image.width, image.height, image.channels, width,
                       height, 0, 0, width, height, out.pixels.data(), uint8_t(0));
  return out;
}

FloatMap resize_bilinear(const FloatMap& map, int width, int height) {
  check_dims(width, height, "resize_bilinear");
  RTSEG_CHECK(!map.empty(), "resize_bilinear: empty map");
  if (map.width == width && map.height == height) return map;
  FloatMap out(width, height);
  resize_linear_window(map.values.data(), map.width, map.height, 1, width, height, 0, 0, width,
                       height, out.values.data(), 0.0f);
  return out;
}

Label resize_nearest(const Label& label, int width, int height) {
  check_dims(width, height, "resize_nearest");
  RTSEG_CHECK(!label.empty(), "resize_nearest: empty label");
  if (label.width == width && label.height == height) return label;
  Label out(width, height);
  resize_nearest_window(label.values.data(), label.width, label.height, width, height, 0, 0, width,
                        height, out.values.data(), int16_t(0));
  return out;
}

void sample_size(const Sample& s, int& width, int& height) {
  RTSEG_CHECK(!s.image.empty(), "sample '{}': no image", s.name);
  width = s.image.width;
  height = s.image.height;
  auto check = [&](bool present, int w, int h, const char* what) {
    RTSEG_CHECK(!present || (w == width && h == height),
                "sample '{}': {} is {}x{} but the image is {}x{}", s.name, what, w, h, width,
                height);
  };
  check(!s.label.empty(), s.label.width, s.label.height, "label");
  check(!s.edge.empty(), s.edge.width, s.edge.height, "edge map");
  check(!s.complexity.empty(), s.complexity.width, s.complexity.height, "complexity map");
}

void resize_sample(Sample& s, int width, int height) {
  int w, h;
  sample_size(s, w, h);
  s.image = resize_bilinear(s.image, width, height);
  if (!s.label.empty()) s.label = resize_nearest(s.label, width, height);
  if (!s.edge.empty()) s.edge = resize_nearest(s.edge, width, height);
  if (!s.complexity.empty()) s.complexity = resize_bilinear(s.complexity, width, height);
}

void resize_crop_sample(Sample& s, int width, int height, int x, int y, int crop_width,
                        int crop_height, const Fill& fill) {
  int w, h;
  sample_size(s, w, h);
  check_dims(width, height, "resize_crop_sample");
  RTSEG_CHECK(x >= 0 && y >= 0 && crop_width > 0 && crop_height > 0 &&
                  x + crop_width <= std::max(width, crop_width) &&
                  y + crop_height <= std::max(height, crop_height),
              "resize_crop_sample: window {}x{} at ({}, {}) does not fit the {}x{} resized sample "
              "'{}' padded to the "
              "window size",
              crop_width, crop_height, x, y, width, height, s.name);
  Image image(crop_width, crop_height, s.image.channels);
  resize_linear_window(s.image.pixels.data(), w, h, s.image.channels, width, height, x, y,
                       crop_width, crop_height, image.pixels.data(), fill.image);
  s.image = std::move(image);
  auto nearest = [&](Label& m, int value) {
    if (m.empty()) return;
    Label out(crop_width, crop_height);
    resize_nearest_window(m.values.data(), w, h, width, height, x, y, crop_width, crop_height,
                          out.values.data(), int16_t(value));
    m = std::move(out);
  };
  nearest(s.label, fill.label);
  nearest(s.edge, fill.edge);
  if (!s.complexity.empty()) {
    FloatMap out(crop_width, crop_height);
    resize_linear_window(s.complexity.values.data(), w, h, 1, width, height, x, y, crop_width,
                         crop_height, out.values.data(), fill.complexity);
    s.complexity = std::move(out);
  }
}

void pad_sample(Sample& s, int min_height, int min_width, const Fill& fill) {
  int w, h;
  sample_size(s, w, h);
  const int nw = std::max(w, min_width), nh = std::max(h, min_height);
  if (nw == w && nh == h) return;
  Image image(nw, nh, s.image.channels, fill.image);
  const size_t row = size_t(w) * s.image.channels;
  for (int y = 0; y < h; ++y)
    std::copy_n(&s.image.pixels[y * row], row, &image.pixels[size_t(y) * nw * s.image.channels]);
  s.image = std::move(image);
  if (!s.label.empty()) s.label = pad_map(s.label, nw, nh, int16_t(fill.label));
  if (!s.edge.empty()) s.edge = pad_map(s.edge, nw, nh, int16_t(fill.edge));
  if (!s.complexity.empty()) s.complexity = pad_map(s.complexity, nw, nh, fill.complexity);
}

void crop_sample(Sample& s, int x, int y, int width, int height) {
  int w, h;
  sample_size(s, w, h);
  RTSEG_CHECK(x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= w && y + height <= h,
              "crop_sample: window {}x{} at ({}, {}) does not fit the {}x{} sample '{}'", width,
              height, x, y, w, h, s.name);
  const int c = s.image.channels;
  Image image(width, height, c);
  for (int r = 0; r < height; ++r) {
    std::copy_n(&s.image.pixels[(size_t(y + r) * w + x) * c], size_t(width) * c,
                &image.pixels[size_t(r) * width * c]);
  }
  s.image = std::move(image);
  if (!s.label.empty()) s.label = crop_map(s.label, x, y, width, height);
  if (!s.edge.empty()) s.edge = crop_map(s.edge, x, y, width, height);
  if (!s.complexity.empty()) s.complexity = crop_map(s.complexity, x, y, width, height);
}

void hflip_sample(Sample& s) {
  int w, h;
  sample_size(s, w, h);
  const int c = s.image.channels;
  for (int y = 0; y < h; ++y) {
    uint8_t* row = &s.image.pixels[size_t(y) * w * c];
    for (int a = 0, b = w - 1; a < b; ++a, --b)
      std::swap_ranges(row + size_t(a) * c, row + size_t(a + 1) * c, row + size_t(b) * c);
  }
  if (!s.label.empty()) flip_map(s.label);
  if (!s.edge.empty()) flip_map(s.edge);
  if (!s.complexity.empty()) flip_map(s.complexity);
}

void rotate_sample(Sample& s, double degrees, const Fill& fill) {
  int w, h;
  sample_size(s, w, h);
  const double t = degrees * M_PI / 180.0, cs = std::cos(t), sn = std::sin(t);
  const double cx = w / 2.0, cy = h / 2.0;
  const int c = s.image.channels;
  Image image(w, h, c, fill.image);
  Label label = s.label.empty() ? Label() : Label(w, h, int16_t(fill.label));
  Label edge = s.edge.empty() ? Label() : Label(w, h, int16_t(fill.edge));
  FloatMap cmap = s.complexity.empty() ? FloatMap() : FloatMap(w, h, fill.complexity);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      // Inverse mapping of a counter-clockwise rotation (y axis pointing down).
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const double sx = cs * dx - sn * dy + cx, sy = sn * dx + cs * dy + cy;
      if (!(sx >= 0.0 && sx < w && sy >= 0.0 && sy < h)) continue;
      const int nx = std::min(int(sx), w - 1), ny = std::min(int(sy), h - 1);
      if (!label.empty()) label.at(x, y) = s.label.at(nx, ny);
      if (!edge.empty()) edge.at(x, y) = s.edge.at(nx, ny);
      const double fx = sx - 0.5, fy = sy - 0.5;
      const int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
      const double wx = fx - x0, wy = fy - y0;
      const int xa = std::clamp(x0, 0, w - 1), xb = std::clamp(x0 + 1, 0, w - 1);
      const int ya = std::clamp(y0, 0, h - 1), yb = std::clamp(y0 + 1, 0, h - 1);
      auto blend = [&](double a, double b, double cc, double d) {
        return (a * (1 - wx) + b * wx) * (1 - wy) + (cc * (1 - wx) + d * wx) * wy;
      };
      for (int k = 0; k < c; ++k) {
        const double v = blend(s.image.at(xa, ya, k), s.image.at(xb, ya, k), s.image.at(xa, yb, k),
                               s.image.at(xb, yb, k));
        image.at(x, y, k) = uint8_t(std::clamp(std::lround(v), 0L, 255L));
      }
      if (!cmap.empty()) {
        cmap.at(x, y) = float(blend(s.complexity.at(xa, ya), s.complexity.at(xb, ya),
                                    s.complexity.at(xa, yb), s.complexity.at(xb, yb)));
      }
    }
  }
  s.image = std::move(image);
  s.label = std::move(label);
  s.edge = std::move(edge);
  s.complexity = std::move(cmap);
}

}  // namespace rtseg::data
