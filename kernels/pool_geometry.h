// Geometry of 2-D pooling over NCHW planes, shared by the CPU reference kernels and the CUDA
// kernels, so every backend agrees on PyTorch's output sizes, window clipping and average
// divisors (the places where pooling implementations usually disagree).
#pragma once

#include <cstdint>

#include "kernels/host_device.h"

namespace rtseg {

struct Pool2dGeometry {
  int64_t planes = 0;  // N·C: pooling treats every channel of every image alike
  int64_t in_h = 0, in_w = 0;
  int64_t out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
};

// PyTorch's pooled length: floor((in + 2·pad − kernel [+ stride − 1 in ceil mode]) / stride) + 1,
// and in ceil mode one less when the last window would start at or past the end of the input
// plus its left padding (it would then cover only right padding). Returns ≤ 0 when the kernel
// does not fit in the padded input; callers reject that.
RTSEG_HOST_DEVICE inline int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride,
                                                  int64_t pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - kernel + (ceil_mode ? stride - 1 : 0);
  if (span < 0) return 0;  // C++ division truncates; floor of a negative span would be < 0 anyway
  int64_t out = span / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// One pooling window, clipped to the input: rows [h0, h1), columns [w0, w1). `padded_area` is
// the window's area clipped only to the padded input [−pad, in + pad), which is PyTorch's
// divisor with count_include_pad: padding counts, but the overhang that ceil mode adds past the
// right/bottom padding does not.
struct PoolWindow {
  int64_t h0, h1, w0, w1;
  int64_t padded_area;

  RTSEG_HOST_DEVICE int64_t area() const { return (h1 - h0) * (w1 - w0); }
  RTSEG_HOST_DEVICE int64_t divisor(bool count_include_pad) const {
    return count_include_pad ? padded_area : area();
  }
};

RTSEG_HOST_DEVICE inline PoolWindow pool_window(const Pool2dGeometry& g, int64_t oh, int64_t ow) {
  int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  int64_t h1 = h0 + g.kernel_h, w1 = w0 + g.kernel_w;
  if (h1 > g.in_h + g.pad_h) h1 = g.in_h + g.pad_h;
  if (w1 > g.in_w + g.pad_w) w1 = g.in_w + g.pad_w;
  const int64_t padded_area = (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > g.in_h) h1 = g.in_h;
  if (w1 > g.in_w) w1 = g.in_w;
  return {h0, h1, w0, w1, padded_area};
}

// Adaptive pooling: output cell i of `out` covers input [floor(i·in/out), ceil((i+1)·in/out)).
// Neighbouring cells overlap by one when out does not divide in.
RTSEG_HOST_DEVICE inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) {
  return i * in / out;
}
RTSEG_HOST_DEVICE inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// The inverse of the windows, for backward passes written as gathers (one thread per input
// element, no atomics): the outputs [begin, end) whose windows contain input index i.
struct PoolSpan {
  int64_t begin, end;
};

// Output o's window (before clipping) covers padded positions [o·stride, o·stride + kernel);
// input i sits at padded position i + pad. Clipping a window to the input never removes an input
// index from it, so the unclipped windows give exactly the covering outputs.
RTSEG_HOST_DEVICE inline PoolSpan pool_outputs_covering(int64_t i, int64_t kernel, int64_t stride,
                                                        int64_t pad, int64_t out) {
  const int64_t at = i + pad;  // ≥ 0
  // Smallest o with o·stride + kernel > at, and one past the largest o with o·stride ≤ at.
  const int64_t begin = at < kernel ? 0 : (at - kernel) / stride + 1;
  int64_t end = at / stride + 1;
  if (end > out) end = out;
  return {begin, end > begin ? end : begin};
}

// Adaptive cell o covers [floor(o·in/out), ceil((o+1)·in/out)); it contains i exactly when
// floor(i·out/in) ≤ o < ceil((i+1)·out/in).
RTSEG_HOST_DEVICE inline PoolSpan adaptive_outputs_covering(int64_t i, int64_t in, int64_t out) {
  const int64_t begin = i * out / in;
  int64_t end = ((i + 1) * out + in - 1) / in;
  if (end > out) end = out;
  return {begin, end > begin ? end : begin};
}

}  // namespace rtseg
