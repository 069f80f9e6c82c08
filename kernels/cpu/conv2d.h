// Reference 2-D convolution on the CPU: forward, gradient of the input, of the weight and of the
// bias, for every case the op covers (dense, grouped, depthwise with a depth multiplier, strided,
// dilated, zero-padded, non-square). Tensors are contiguous NCHW / OIHW arrays.
//
// All four loops walk the same nest: (image, output channel, input channel of its group, tap),
// then the output rows/columns that tap reaches (conv_valid_range), so the innermost loop runs
// along a row of contiguous memory with no bounds tests. Reductions that sum many products
// (weight and bias gradients) accumulate in double so float32 results do not depend on order.
#pragma once

#include <cstdint>

#include "kernels/conv_geometry.h"

namespace rtseg::cpu {

namespace conv_detail {

// For one kernel tap (r, s), calls body(oy, in_base, ox_begin, ox_end) for each output row oy the
// tap reaches; output (oy, ox) with ox in [ox_begin, ox_end) reads input element
// in_base + ox·stride_w of the plane (an index, not a pointer, because in_base itself may be
// negative when the row starts in the left padding).
template <typename F>
inline void for_each_tap_row(const Conv2dGeometry& g, int64_t tap_r, int64_t tap_s, F body) {
  const int64_t off_h = tap_r * g.dil_h - g.pad_h;
  const int64_t off_w = tap_s * g.dil_w - g.pad_w;
  const OutputRange rows = conv_valid_range(off_h, g.h, g.stride_h, g.oh);
  const OutputRange cols = conv_valid_range(off_w, g.w, g.stride_w, g.ow);
  if (cols.begin >= cols.end) return;
  for (int64_t oy = rows.begin; oy < rows.end; ++oy) {
    body(oy, (oy * g.stride_h + off_h) * g.w + off_w, cols.begin, cols.end);
  }
}

}  // namespace conv_detail

// y[n, k, oy, ox] = bias[k] + Σ_{c in group(k), r, s} x[n, c, oy·sh + r·dh − ph, ox·sw + s·dw − pw]
//                                                      · w[k, c − group start, r, s]
// `bias` may be null.
template <typename T>
void conv2d_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g) {
  const int64_t cg = g.c_per_group(), kg = g.k_per_group();
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t k = 0; k < g.k; ++k) {
      T* yp = y + (n * g.k + k) * plane_out;
      const T b = bias ? bias[k] : T(0);
      for (int64_t i = 0; i < plane_out; ++i) yp[i] = b;
      const int64_t c0 = (k / kg) * cg;
      for (int64_t ci = 0; ci < cg; ++ci) {
        const T* xp = x + (n * g.c + c0 + ci) * plane_in;
        const T* wp = w + (k * cg + ci) * g.r * g.s;
        for (int64_t r = 0; r < g.r; ++r) {
          for (int64_t s = 0; s < g.s; ++s) {
            const T wv = wp[r * g.s + s];
            conv_detail::for_each_tap_row(
                g, r, s, [&](int64_t oy, int64_t in_base, int64_t ox0, int64_t ox1) {
                  T* yrow = yp + oy * g.ow;
                  for (int64_t ox = ox0; ox < ox1; ++ox)
                    yrow[ox] += wv * xp[in_base + ox * g.stride_w];
                });
          }
        }
      }
    }
  }
}

// dx = Σ over every (output, tap) pair that read x of dy · w: the forward loop with the
// assignment reversed. Overwrites dx.
template <typename T>
void conv2d_backward_input(T* dx, const T* dy, const T* w, const Conv2dGeometry& g) {
  const int64_t cg = g.c_per_group(), kg = g.k_per_group();
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  for (int64_t i = 0; i < g.input_numel(); ++i) dx[i] = T(0);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t k = 0; k < g.k; ++k) {
      const T* dyp = dy + (n * g.k + k) * plane_out;
      const int64_t c0 = (k / kg) * cg;
      for (int64_t ci = 0; ci < cg; ++ci) {
        T* dxp = dx + (n * g.c + c0 + ci) * plane_in;
        const T* wp = w + (k * cg + ci) * g.r * g.s;
        for (int64_t r = 0; r < g.r; ++r) {
          for (int64_t s = 0; s < g.s; ++s) {
            const T wv = wp[r * g.s + s];
            conv_detail::for_each_tap_row(
                g, r, s, [&](int64_t oy, int64_t in_base, int64_t ox0, int64_t ox1) {
                  const T* dyrow = dyp + oy * g.ow;
                  for (int64_t ox = ox0; ox < ox1; ++ox)
                    dxp[in_base + ox * g.stride_w] += wv * dyrow[ox];
                });
          }
        }
      }
    }
  }
}

// dw[k, ci, r, s] = Σ_{n, oy, ox} dy[n, k, oy, ox] · x[n, c0 + ci, iy, ix]. Overwrites dw.
template <typename T>
void conv2d_backward_weight(T* dw, const T* dy, const T* x, const Conv2dGeometry& g) {
  const int64_t cg = g.c_per_group(), kg = g.k_per_group();
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  for (int64_t k = 0; k < g.k; ++k) {
    const int64_t c0 = (k / kg) * cg;
    for (int64_t ci = 0; ci < cg; ++ci) {
      for (int64_t r = 0; r < g.r; ++r) {
        for (int64_t s = 0; s < g.s; ++s) {
          double acc = 0.0;
          for (int64_t n = 0; n < g.n; ++n) {
            const T* dyp = dy + (n * g.k + k) * plane_out;
            const T* xp = x + (n * g.c + c0 + ci) * plane_in;
            conv_detail::for_each_tap_row(
                g, r, s, [&](int64_t oy, int64_t in_base, int64_t ox0, int64_t ox1) {
                  const T* dyrow = dyp + oy * g.ow;
                  for (int64_t ox = ox0; ox < ox1; ++ox) {
                    acc += static_cast<double>(dyrow[ox]) *
                           static_cast<double>(xp[in_base + ox * g.stride_w]);
                  }
                });
          }
          dw[((k * cg + ci) * g.r + r) * g.s + s] = static_cast<T>(acc);
        }
      }
    }
  }
}

// db[k] = Σ_{n, oy, ox} dy[n, k, oy, ox]. Overwrites db.
template <typename T>
void conv2d_backward_bias(T* db, const T* dy, const Conv2dGeometry& g) {
  const int64_t plane_out = g.oh * g.ow;
  for (int64_t k = 0; k < g.k; ++k) {
    double acc = 0.0;
    for (int64_t n = 0; n < g.n; ++n) {
      const T* dyp = dy + (n * g.k + k) * plane_out;
      for (int64_t i = 0; i < plane_out; ++i) acc += static_cast<double>(dyp[i]);
    }
    db[k] = static_cast<T>(acc);
  }
}

}  // namespace rtseg::cpu
