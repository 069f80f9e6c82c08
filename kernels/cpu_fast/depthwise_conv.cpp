#include "kernels/cpu_fast/depthwise_conv.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/cpu_fast/isa.h"

namespace rtseg::cpu_fast {

namespace {

// Eight floats: GCC's generic vectors become one AVX register in the x86-64-v3/v4 clones and two
// SSE registers in the baseline one.
using v8 = float __attribute__((vector_size(32)));
using v8i = int __attribute__((vector_size(32)));

[[gnu::always_inline]] inline v8 load8(const float* p) {
  v8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void store8(float* p, v8 v) { __builtin_memcpy(p, &v, sizeof v); }
// p[0], p[2], ..., p[14] (reads p[0..15]).
[[gnu::always_inline]] inline v8 load8_even(const float* p) {
  return __builtin_shuffle(load8(p), load8(p + 8), v8i{0, 2, 4, 6, 8, 10, 12, 14});
}
[[gnu::always_inline]] inline v8 epilogue8(v8 v, ConvEpilogue e) {
  const v8 zero = {}, six = zero + 6.0f;
  if (e == ConvEpilogue::None) return v;
  v = v > zero ? v : zero;  // as unary::Relu: NaN gives 0
  return e == ConvEpilogue::Relu6 ? (v < six ? v : six) : v;
}

// Up to 32 entries on the stack, more on the heap (kernels larger than any net uses).
template <typename T>
class SmallBuffer {
 public:
  explicit SmallBuffer(int64_t n) {
    if (n > 32) heap_.resize(static_cast<size_t>(n));
  }
  T* data() { return heap_.empty() ? stack_ : heap_.data(); }

 private:
  T stack_[32];
  std::vector<T> heap_;
};

// Each tap's offset in a padded plane of row stride ld.
[[gnu::always_inline]] inline void tap_offsets(int64_t* offsets, const Conv2dGeometry& g,
                                               int64_t ld) {
  for (int64_t r = 0; r < g.r; ++r) {
    for (int64_t s = 0; s < g.s; ++s) offsets[r * g.s + s] = r * g.dil_h * ld + s * g.dil_w;
  }
}

// The input plane with its zero padding written out, so that every tap of every output is inside
// it and one loop without bounds tests serves the whole plane; 32 floats of slack at the end let
// the stride-2 loads read one float past the last row. The copy costs one read and write of the
// plane against r·s reads by the convolution. Reused per thread.
[[gnu::always_inline]] inline const float* padded_plane(const float* x, const Conv2dGeometry& g,
                                                        int64_t& row_stride) {
  row_stride = g.w + 2 * g.pad_w;
  const int64_t rows = g.h + 2 * g.pad_h;
  thread_local std::vector<float> buffer;
  thread_local int64_t zeroed_h = -1, zeroed_w = -1, zeroed_ph = -1, zeroed_pw = -1;
  const size_t need = static_cast<size_t>(rows * row_stride + 32);
  if (buffer.size() < need) {
    buffer.resize(need);
    zeroed_h = -1;
  }
  float* p = buffer.data();
  // The padding stays zero from one plane to the next of the same geometry: only the interior
  // is copied then.
  if (zeroed_h != g.h || zeroed_w != g.w || zeroed_ph != g.pad_h || zeroed_pw != g.pad_w) {
    std::fill(p, p + need, 0.0f);
    zeroed_h = g.h, zeroed_w = g.w, zeroed_ph = g.pad_h, zeroed_pw = g.pad_w;
  }
  for (int64_t iy = 0; iy < g.h; ++iy) {  // a loop, not memcpy: rows are short, calls add up
    float* __restrict dst = p + (iy + g.pad_h) * row_stride + g.pad_w;
    const float* __restrict src = x + iy * g.w;
    for (int64_t ix = 0; ix < g.w; ++ix) dst[ix] = src[ix];
  }
  return p;
}

}  // namespace

namespace {

// NR output rows × 8·NV columns at stride SW, summed over every tap in registers: NR·NV
// independent accumulators keep both FMA pipes busy (one accumulator would wait on its own
// latency every tap). `xs` is the block's first input (tap offsets are added), `row_step` the
// distance between the input rows of consecutive output rows.
template <int NV, int NR, int SW>
[[gnu::always_inline]] inline void depthwise_block(float* y, int64_t ldy, const float* xs,
                                                   int64_t row_step, const float* w,
                                                   const int64_t* offsets, int64_t taps, float b,
                                                   ConvEpilogue epilogue) {
  v8 acc[NR][NV];
  for (int r = 0; r < NR; ++r) {
    for (int v = 0; v < NV; ++v) acc[r][v] = v8{} + b;
  }
  for (int64_t t = 0; t < taps; ++t) {
    const v8 wv = v8{} + w[t];
    for (int r = 0; r < NR; ++r) {
      const float* p = xs + r * row_step + offsets[t];
      for (int v = 0; v < NV; ++v) {
        acc[r][v] += wv * (SW == 1 ? load8(p + 8 * v) : load8_even(p + 16 * v));
      }
    }
  }
  for (int r = 0; r < NR; ++r) {
    for (int v = 0; v < NV; ++v) store8(y + r * ldy + 8 * v, epilogue8(acc[r][v], epilogue));
  }
}

// Every output row of the plane at stride SW, by blocks of 8·NV columns (the last block overlaps
// the one before it where ow is not a multiple: the same arithmetic, so the same values) and
// pairs of rows.
template <int NV, int SW>
[[gnu::always_inline]] inline void depthwise_rows(float* y, const float* xp, int64_t ld,
                                                  const float* w, const int64_t* offsets,
                                                  int64_t taps, float b, const Conv2dGeometry& g,
                                                  ConvEpilogue epilogue) {
  constexpr int64_t kWidth = 8 * NV;
  const int64_t row_step = g.stride_h * ld;
  int64_t oy = 0;
  for (; oy + 2 <= g.oh; oy += 2) {
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += kWidth) {
      const int64_t ox = ox0 + kWidth <= g.ow ? ox0 : g.ow - kWidth;
      depthwise_block<NV, 2, SW>(y + oy * g.ow + ox, g.ow, xp + oy * row_step + ox * SW, row_step,
                                 w, offsets, taps, b, epilogue);
    }
  }
  for (; oy < g.oh; ++oy) {
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += kWidth) {
      const int64_t ox = ox0 + kWidth <= g.ow ? ox0 : g.ow - kWidth;
      depthwise_block<NV, 1, SW>(y + oy * g.ow + ox, g.ow, xp + oy * row_step + ox * SW, row_step,
                                 w, offsets, taps, b, epilogue);
    }
  }
}

}  // namespace

RTSEG_CPU_CLONES
void depthwise_forward_plane(float* __restrict y, const float* __restrict x,
                             const float* __restrict w, float b, const Conv2dGeometry& g,
                             ConvEpilogue epilogue) {
  int64_t ld = 0;
  const float* __restrict xp = padded_plane(x, g, ld);
  const int64_t sw = g.stride_w, taps = g.r * g.s;
  SmallBuffer<int64_t> offset_buffer(taps);  // each tap's offset in the padded plane
  int64_t* offsets = offset_buffer.data();
  tap_offsets(offsets, g, ld);
  if (sw == 1 && g.ow >= 32)
    return depthwise_rows<4, 1>(y, xp, ld, w, offsets, taps, b, g, epilogue);
  if (sw == 2 && g.ow >= 32)
    return depthwise_rows<4, 2>(y, xp, ld, w, offsets, taps, b, g, epilogue);
  if (sw == 1 && g.ow >= 16)
    return depthwise_rows<2, 1>(y, xp, ld, w, offsets, taps, b, g, epilogue);
  if (sw == 2 && g.ow >= 16)
    return depthwise_rows<2, 2>(y, xp, ld, w, offsets, taps, b, g, epilogue);
  for (int64_t oy = 0; oy < g.oh; ++oy) {  // narrow planes and other strides
    const float* __restrict xrow = xp + oy * g.stride_h * ld;
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      float acc = b;
      for (int64_t t = 0; t < taps; ++t) acc += w[t] * xrow[ox * sw + offsets[t]];
      y[oy * g.ow + ox] = apply_epilogue(acc, epilogue);
    }
  }
}

namespace {

// Σ a[i]·b[i·SW] for i < n in float: eight lanes, then the lanes and the tail in order.
template <int SW>
[[gnu::always_inline]] inline float dot_row(const float* __restrict a, const float* __restrict b,
                                            int64_t n) {
  v8 acc0 = {}, acc1 = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 += load8(a + i) * (SW == 1 ? load8(b + i) : load8_even(b + 2 * i));
    acc1 += load8(a + i + 8) * (SW == 1 ? load8(b + i + 8) : load8_even(b + 2 * i + 16));
  }
  const v8 acc = acc0 + acc1;
  float total = 0.0f;
  for (int l = 0; l < 8; ++l) total += acc[l];
  for (; i < n; ++i) total += a[i] * b[i * SW];
  return total;
}

}  // namespace

RTSEG_CPU_CLONES
void depthwise_backward_input_plane(float* __restrict dx, const float* __restrict dy,
                                    const float* __restrict w, const Conv2dGeometry& g) {
  // Scattered into a zeroed padded plane (every tap inside it, no bounds tests), whose interior
  // is then added to dx.
  const int64_t ld = g.w + 2 * g.pad_w, rows = g.h + 2 * g.pad_h, taps = g.r * g.s;
  thread_local std::vector<float> buffer;
  const size_t need = static_cast<size_t>(rows * ld + 32);
  if (buffer.size() < need) buffer.resize(need);
  float* __restrict pad = buffer.data();
  std::fill(pad, pad + need, 0.0f);
  SmallBuffer<int64_t> offset_buffer(taps);
  int64_t* offsets = offset_buffer.data();
  tap_offsets(offsets, g, ld);
  const int64_t sw = g.stride_w;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* __restrict dyrow = dy + oy * g.ow;
    float* __restrict prow = pad + oy * g.stride_h * ld;
    for (int64_t t = 0; t < taps; ++t) {
      const float wv = w[t];
      float* __restrict p = prow + offsets[t];
      if (sw == 1) {
        for (int64_t ox = 0; ox < g.ow; ++ox) p[ox] += wv * dyrow[ox];
      } else {
        for (int64_t ox = 0; ox < g.ow; ++ox) p[ox * sw] += wv * dyrow[ox];
      }
    }
  }
  for (int64_t iy = 0; iy < g.h; ++iy) {
    float* __restrict dxrow = dx + iy * g.w;
    const float* __restrict prow = pad + (iy + g.pad_h) * ld + g.pad_w;
    for (int64_t ix = 0; ix < g.w; ++ix) dxrow[ix] += prow[ix];
  }
}

RTSEG_CPU_CLONES
void depthwise_backward_weight_plane(double* dw, const float* __restrict dy,
                                     const float* __restrict x, const Conv2dGeometry& g) {
  int64_t ld = 0;
  const float* __restrict xp = padded_plane(x, g, ld);
  const int64_t taps = g.r * g.s;
  SmallBuffer<int64_t> offset_buffer(taps);
  int64_t* offsets = offset_buffer.data();
  tap_offsets(offsets, g, ld);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const float* __restrict dyrow = dy + oy * g.ow;
    const float* __restrict xrow = xp + oy * g.stride_h * ld;
    for (int64_t t = 0; t < taps; ++t) {  // one row in float, rows summed in double
      const float* b = xrow + offsets[t];
      float row = 0.0f;
      if (g.stride_w == 1) {
        row = dot_row<1>(dyrow, b, g.ow);
      } else if (g.stride_w == 2) {
        row = dot_row<2>(dyrow, b, g.ow);
      } else {
        for (int64_t ox = 0; ox < g.ow; ++ox) row += dyrow[ox] * b[ox * g.stride_w];
      }
      dw[t] += static_cast<double>(row);
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
