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

// dst[i] = epilogue(src[i]): the switch outside the loop, so each case vectorises.
[[gnu::always_inline]] inline void store_with_epilogue(float* dst, const float* src, int64_t n,
                                                       ConvEpilogue epilogue) {
  switch (epilogue) {
    case ConvEpilogue::None:
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
      return;
    case ConvEpilogue::Relu:
      for (int64_t i = 0; i < n; ++i) dst[i] = apply_epilogue(src[i], ConvEpilogue::Relu);
      return;
    case ConvEpilogue::Relu6:
      for (int64_t i = 0; i < n; ++i) dst[i] = apply_epilogue(src[i], ConvEpilogue::Relu6);
      return;
  }
}

}  // namespace

RTSEG_CPU_CLONES
void depthwise_forward_plane(float* __restrict y, const float* __restrict x,
                             const float* __restrict w, float b, const Conv2dGeometry& g,
                             ConvEpilogue epilogue) {
  constexpr int64_t kBlock = 16;
  const std::vector<TapColumns> cols = tap_columns(g);
  const int64_t sw = g.stride_w;
  // Columns every kernel column reaches: [inner_begin, inner_end).
  int64_t inner_begin = 0, inner_end = g.ow;
  for (const TapColumns& c : cols) {
    inner_begin = c.begin > inner_begin ? c.begin : inner_begin;
    inner_end = c.end < inner_end ? c.end : inner_end;
  }
  // (A kernel column entirely in the padding reaches no column: its begin may exceed ow.)
  if (inner_begin > g.ow) inner_begin = g.ow;
  if (inner_end < inner_begin) inner_end = inner_begin;
  std::vector<int64_t> rows(static_cast<size_t>(g.r));  // the valid kernel rows of an output row
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    float* __restrict yrow = y + oy * g.ow;
    size_t valid = 0;
    for (int64_t r = 0; r < g.r; ++r) {
      const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
      if (iy >= 0 && iy < g.h) rows[valid++] = r;
    }
    // Outer columns: one pass per tap, restricted to the columns it reaches.
    const auto edge = [&](int64_t from, int64_t to) {
      for (int64_t ox = from; ox < to; ++ox) yrow[ox] = b;
      for (size_t i = 0; i < valid; ++i) {
        const int64_t r = rows[i];
        const float* __restrict xrow = x + (oy * g.stride_h + r * g.dil_h - g.pad_h) * g.w;
        for (int64_t s = 0; s < g.s; ++s) {
          const TapColumns& c = cols[static_cast<size_t>(s)];
          const float wv = w[r * g.s + s];
          const int64_t a = c.begin > from ? c.begin : from, e = c.end < to ? c.end : to;
          for (int64_t ox = a; ox < e; ++ox) yrow[ox] += wv * xrow[ox * sw + c.offset];
        }
      }
      if (epilogue != ConvEpilogue::None && to > from)
        store_with_epilogue(yrow + from, yrow + from, to - from, epilogue);
    };
    edge(0, inner_begin);
    int64_t ox = inner_begin;
    for (; ox + kBlock <= inner_end; ox += kBlock) {
      float acc[kBlock];
      for (int64_t j = 0; j < kBlock; ++j) acc[j] = b;
      for (size_t i = 0; i < valid; ++i) {
        const int64_t r = rows[i];
        const float* __restrict xrow = x + (oy * g.stride_h + r * g.dil_h - g.pad_h) * g.w;
        for (int64_t s = 0; s < g.s; ++s) {
          const float wv = w[r * g.s + s];
          const float* __restrict xs = xrow + ox * sw + cols[static_cast<size_t>(s)].offset;
          if (sw == 1) {
            for (int64_t j = 0; j < kBlock; ++j) acc[j] += wv * xs[j];
          } else {
            for (int64_t j = 0; j < kBlock; ++j) acc[j] += wv * xs[j * sw];
          }
        }
      }
      store_with_epilogue(yrow + ox, acc, kBlock, epilogue);
    }
    edge(ox, g.ow);
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
