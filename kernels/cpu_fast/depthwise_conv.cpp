#include "kernels/cpu_fast/depthwise_conv.h"

#include <cstddef>
#include <vector>

#include "kernels/cpu_fast/isa.h"

namespace rtseg::cpu_fast {

namespace {

// The output columns [begin, end) each kernel column s reaches, and its input offset s·dw − pw:
// the same for every row, so computed once per plane.
struct TapColumns {
  int64_t offset, begin, end;
};

std::vector<TapColumns> tap_columns(const Conv2dGeometry& g) {
  std::vector<TapColumns> cols(static_cast<size_t>(g.s));
  for (int64_t s = 0; s < g.s; ++s) {
    const int64_t offset = s * g.dil_w - g.pad_w;
    const OutputRange range = conv_valid_range(offset, g.w, g.stride_w, g.ow);
    cols[static_cast<size_t>(s)] = {offset, range.begin, range.end};
  }
  return cols;
}

}  // namespace

RTSEG_CPU_CLONES
void depthwise_forward_plane(float* __restrict y, const float* __restrict x,
                             const float* __restrict w, float b, const Conv2dGeometry& g) {
  const std::vector<TapColumns> cols = tap_columns(g);
  const int64_t sw = g.stride_w;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    float* __restrict yrow = y + oy * g.ow;
    for (int64_t ox = 0; ox < g.ow; ++ox) yrow[ox] = b;
    for (int64_t r = 0; r < g.r; ++r) {
      const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
      if (iy < 0 || iy >= g.h) continue;
      const float* __restrict xrow = x + iy * g.w;
      for (int64_t s = 0; s < g.s; ++s) {
        const TapColumns& c = cols[static_cast<size_t>(s)];
        const float wv = w[r * g.s + s];
        if (sw == 1) {
          for (int64_t ox = c.begin; ox < c.end; ++ox) yrow[ox] += wv * xrow[ox + c.offset];
        } else {
          for (int64_t ox = c.begin; ox < c.end; ++ox) yrow[ox] += wv * xrow[ox * sw + c.offset];
        }
      }
    }
  }
}

RTSEG_CPU_CLONES
void depthwise_backward_input_plane(float* __restrict dx, const float* __restrict dy,
                                    const float* __restrict w, const Conv2dGeometry& g) {
  const std::vector<TapColumns> cols = tap_columns(g);
  const int64_t sw = g.stride_w;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* __restrict dyrow = dy + oy * g.ow;
    for (int64_t r = 0; r < g.r; ++r) {
      const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
      if (iy < 0 || iy >= g.h) continue;
      float* __restrict dxrow = dx + iy * g.w;
      for (int64_t s = 0; s < g.s; ++s) {
        const TapColumns& c = cols[static_cast<size_t>(s)];
        const float wv = w[r * g.s + s];
        if (sw == 1) {
          for (int64_t ox = c.begin; ox < c.end; ++ox) dxrow[ox + c.offset] += wv * dyrow[ox];
        } else {
          for (int64_t ox = c.begin; ox < c.end; ++ox) dxrow[ox * sw + c.offset] += wv * dyrow[ox];
        }
      }
    }
  }
}

RTSEG_CPU_CLONES
void depthwise_backward_weight_plane(double* dw, const float* __restrict dy,
                                     const float* __restrict x, const Conv2dGeometry& g) {
  const std::vector<TapColumns> cols = tap_columns(g);
  const int64_t sw = g.stride_w;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* __restrict dyrow = dy + oy * g.ow;
    for (int64_t r = 0; r < g.r; ++r) {
      const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
      if (iy < 0 || iy >= g.h) continue;
      const float* __restrict xrow = x + iy * g.w;
      for (int64_t s = 0; s < g.s; ++s) {
        const TapColumns& c = cols[static_cast<size_t>(s)];
        float acc = 0.0f;  // one row in float (vector lanes), rows summed in double
        if (sw == 1) {
#pragma omp simd reduction(+ : acc)
          for (int64_t ox = c.begin; ox < c.end; ++ox) acc += dyrow[ox] * xrow[ox + c.offset];
        } else {
#pragma omp simd reduction(+ : acc)
          for (int64_t ox = c.begin; ox < c.end; ++ox) acc += dyrow[ox] * xrow[ox * sw + c.offset];
        }
        dw[r * g.s + s] += static_cast<double>(acc);
      }
    }
  }
}

RTSEG_CPU_CLONES
double plane_sum(const float* __restrict v, int64_t n) {
  double total = 0.0;
  constexpr int64_t kChunk = 256;
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t i1 = i0 + kChunk < n ? i0 + kChunk : n;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = i0; i < i1; ++i) acc += v[i];
    total += static_cast<double>(acc);
  }
  return total;
}

}  // namespace rtseg::cpu_fast
