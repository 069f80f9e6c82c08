// Hand-written CUDA convolution for grouped convs (groups 4, 16, ... and any group small enough
// that cuDNN's per-group kernels are a poor fit, PERF-NOTES §2), and the weight gradient shared
// with the depthwise kernels (a depthwise conv is the grouped conv with one input channel per
// group, so one reduction serves both).
//
// The per-thread and per-block bodies are host+device functions: the CUDA kernels in
// grouped_conv.cu are thin wrappers around them, and tests/test_conv.cpp runs the same bodies on
// the CPU (blocks and threads emulated one after another) against the reference kernels, so the
// index arithmetic is exercised on machines without a GPU.
//
// Designs (correctness first, then the obvious reuse):
//  - forward: one thread per output position computing KB output channels of one group at once
//    (KB = 4 when the group's output channels allow it), so each input value read feeds KB FMAs;
//    every thread of a block works on the same channels, so weight reads are warp-uniform.
//  - backward-data: one thread per input element, summing over the group's output channels and
//    the taps that reached it (gather, no atomics).
//  - backward-weight: one block per filter row (k, ci) — per (k, ci, tap) for kernels other than
//    3×3 — and per chunk of the N·OH output rows; each thread accumulates all 9 taps in
//    registers over a strided slice of the chunk, then a block tree reduction. With several
//    chunks the partial sums go to a workspace and a second kernel adds them in a fixed order.
//    Deterministic: no atomics anywhere, and the split depends only on the geometry.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/conv_geometry.h"
#include "kernels/cuda/runtime/stream.h"
#include "kernels/error.h"

namespace rtseg::cuda {

constexpr int kDirectConvThreads = 256;

// The geometry in 32-bit ints (indices inside a plane are 32-bit, plane bases 64-bit), plus the
// weight-gradient split.
struct DirectConvParams {
  int n, c, h, w, k, oh, ow, r, s;
  int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int cg, kg;                  // input / output channels per group
  int chunks, rows_per_chunk;  // weight gradient: the N·OH output rows in `chunks` ranges
};

// Whether the hand-written kernels can index this geometry with 32-bit ints and the grid limits
// (65535 in y and z); cuDNN takes the rest.
inline bool direct_conv_indexable(const Conv2dGeometry& g) {
  const int64_t small = int64_t(1) << 24, plane = int64_t(1) << 30;
  const int64_t values[] = {g.h,           g.w,     g.oh,    g.ow,       g.r * g.dil_h,
                            g.s * g.dil_w, g.pad_h, g.pad_w, g.stride_h, g.stride_w};
  for (int64_t v : values) {
    if (v >= small) return false;
  }
  return g.h * g.w < plane && g.oh * g.ow < plane && g.n * g.oh * g.ow < plane && g.n <= 65535 &&
         g.c <= 65535 && g.k <= 65535 && g.k * g.c_per_group() * g.r * g.s < plane;
}

// The kernel size the forward and backward-data kernels are instantiated for: 3 (unrolled) or 0
// (generic).
inline int grouped_kernel_variant(const Conv2dGeometry& g) { return g.r == 3 && g.s == 3 ? 3 : 0; }

// Output channels per forward thread: 4 when the group's output channels split evenly.
inline int grouped_channel_block(const Conv2dGeometry& g) {
  return g.k_per_group() % 4 == 0 ? 4 : 1;
}

// Whether the weight gradient keeps all taps of a filter row in registers (3×3) or gives each
// tap its own block.
inline bool weight_grad_per_tap(const Conv2dGeometry& g) { return !(g.r == 3 && g.s == 3); }

inline DirectConvParams direct_conv_params(const Conv2dGeometry& g) {
  RTSEG_CHECK(direct_conv_indexable(g),
              "conv2d: geometry N{} C{} {}×{} K{} kernel {}×{} too large for the hand-written CUDA "
              "kernels",
              g.n, g.c, g.h, g.w, g.k, g.r, g.s);
  DirectConvParams p{};
  p.n = static_cast<int>(g.n);
  p.c = static_cast<int>(g.c);
  p.h = static_cast<int>(g.h);
  p.w = static_cast<int>(g.w);
  p.k = static_cast<int>(g.k);
  p.oh = static_cast<int>(g.oh);
  p.ow = static_cast<int>(g.ow);
  p.r = static_cast<int>(g.r);
  p.s = static_cast<int>(g.s);
  p.stride_h = static_cast<int>(g.stride_h);
  p.stride_w = static_cast<int>(g.stride_w);
  p.pad_h = static_cast<int>(g.pad_h);
  p.pad_w = static_cast<int>(g.pad_w);
  p.dil_h = static_cast<int>(g.dil_h);
  p.dil_w = static_cast<int>(g.dil_w);
  p.cg = static_cast<int>(g.c_per_group());
  p.kg = static_cast<int>(g.k_per_group());
  // Weight-gradient split: enough blocks to fill a large GPU (~1024), but at least ~4096 products
  // per block and one output row per chunk. It depends on the geometry only, so results are the
  // same on every GPU.
  const int64_t blocks = g.k * g.c_per_group() * (weight_grad_per_tap(g) ? g.r * g.s : 1);
  const int64_t rows = g.n * g.oh;
  int64_t chunks = (1024 + blocks - 1) / blocks;
  const int64_t by_work = (g.n * g.oh * g.ow) / 4096;
  if (chunks > by_work) chunks = by_work;
  if (chunks > rows) chunks = rows;
  if (chunks > 65535) chunks = 65535;
  if (chunks < 1) chunks = 1;
  const int64_t per_chunk = (rows + chunks - 1) / chunks;
  p.rows_per_chunk = static_cast<int>(per_chunk);
  p.chunks = static_cast<int>((rows + per_chunk - 1) / per_chunk);  // no empty chunk
  return p;
}

// Threads per weight-gradient block: one per product of the chunk up to kDirectConvThreads, in
// whole warps. Small planes (PIDNet-S's PAPPM at 1/64 has a few positions) would otherwise leave
// most of 256 threads idle through every block_sum.
inline int weight_grad_threads(const DirectConvParams& p) {
  const int64_t products = static_cast<int64_t>(p.rows_per_chunk) * p.ow;
  const int64_t warps = (std::min<int64_t>(products, kDirectConvThreads) + 31) / 32;
  return static_cast<int>(std::max<int64_t>(1, warps) * 32);
}

// ---- bodies shared by the kernels and the CPU emulation in the tests

// Forward: outputs (n, k0 + j, o) for j < KB, o = oy·OW + ox; k0 is a multiple of KB and all KB
// channels lie in one group. Same summation order as the CPU reference (bias, then channel,
// row, column of the kernel).
template <typename T, int KS, int KB>
RTSEG_HOST_DEVICE inline void grouped_forward_outputs(T* y, const T* x, const T* w, const T* bias,
                                                      const DirectConvParams& p, int n, int k0,
                                                      int o) {
  const int R = KS > 0 ? KS : p.r, S = KS > 0 ? KS : p.s;
  const int oy = o / p.ow, ox = o - oy * p.ow;
  const int c0 = (k0 / p.kg) * p.cg;
  const int64_t filter = static_cast<int64_t>(p.cg) * R * S;  // one output channel's weights
  T acc[KB];
  for (int j = 0; j < KB; ++j) acc[j] = bias ? bias[k0 + j] : T(0);
  const int iy0 = oy * p.stride_h - p.pad_h, ix0 = ox * p.stride_w - p.pad_w;
  for (int ci = 0; ci < p.cg; ++ci) {
    const T* xp = x + (static_cast<int64_t>(n) * p.c + c0 + ci) * p.h * p.w;
    const T* wp = w + k0 * filter + static_cast<int64_t>(ci) * R * S;
    for (int r = 0; r < R; ++r) {
      const int iy = iy0 + r * p.dil_h;
      if (static_cast<unsigned>(iy) >= static_cast<unsigned>(p.h)) continue;
      for (int s = 0; s < S; ++s) {
        const int ix = ix0 + s * p.dil_w;
        if (static_cast<unsigned>(ix) >= static_cast<unsigned>(p.w)) continue;
        const T v = xp[iy * p.w + ix];
        for (int j = 0; j < KB; ++j) acc[j] += v * wp[j * filter + r * S + s];
      }
    }
  }
  const int64_t plane = static_cast<int64_t>(p.oh) * p.ow;
  for (int j = 0; j < KB; ++j) y[(static_cast<int64_t>(n) * p.k + k0 + j) * plane + o] = acc[j];
}

// Backward-data: dx[n, c, i] (i = iy·W + ix) = Σ over the group's output channels and the taps
// (r, s) with oy·sh − ph + r·dh = iy (and the same for columns) of dy[n, k, oy, ox] · w[k, ci, r,
// s].
template <typename T, int KS>
RTSEG_HOST_DEVICE inline void grouped_backward_data_input(T* dx, const T* dy, const T* w,
                                                          const DirectConvParams& p, int n, int c,
                                                          int i) {
  const int R = KS > 0 ? KS : p.r, S = KS > 0 ? KS : p.s;
  const int iy = i / p.w, ix = i - iy * p.w;
  const int group = c / p.cg, ci = c - group * p.cg;
  T acc = T(0);
  for (int kk = 0; kk < p.kg; ++kk) {
    const int k = group * p.kg + kk;
    const T* dyp = dy + (static_cast<int64_t>(n) * p.k + k) * p.oh * p.ow;
    const T* wp = w + (static_cast<int64_t>(k) * p.cg + ci) * R * S;
    for (int r = 0; r < R; ++r) {
      const int ty = iy + p.pad_h - r * p.dil_h;  // = oy·sh for the output that used this tap
      if (ty < 0) break;                          // decreases with r
      if (ty % p.stride_h != 0) continue;
      const int oy = ty / p.stride_h;
      if (oy >= p.oh) continue;
      for (int s = 0; s < S; ++s) {
        const int tx = ix + p.pad_w - s * p.dil_w;
        if (tx < 0) break;
        if (tx % p.stride_w != 0) continue;
        const int ox = tx / p.stride_w;
        if (ox >= p.ow) continue;
        acc += dyp[oy * p.ow + ox] * wp[r * S + s];
      }
    }
  }
  dx[(static_cast<int64_t>(n) * p.c + c) * p.h * p.w + i] = acc;
}

// Weight gradient, one thread's share: acc[t] += Σ dy[n, k, oy, ox] · x[n, c, iy, ix] for tap
// tap0 + t of filter row `row` = k·cg + ci, over the elements of chunk `chunk` that thread `tid`
// of `nthreads` owns (a stride through the chunk's flattened (n, oy, ox) range, so reads of dy
// are coalesced). KS = 3 covers all 9 taps (tap0 = 0); KS = 0 covers the single tap tap0.
template <typename T, int KS>
RTSEG_HOST_DEVICE inline void weight_grad_partial(T* acc, const T* dy, const T* x,
                                                  const DirectConvParams& p, int row, int tap0,
                                                  int chunk, int tid, int nthreads) {
  constexpr int kTaps = KS > 0 ? KS * KS : 1;
  const int S = KS > 0 ? KS : p.s;
  const int k = row / p.cg, ci = row - k * p.cg;
  const int c = (k / p.kg) * p.cg + ci;
  const int row_begin = chunk * p.rows_per_chunk;
  const int row_end = conv_imin(p.n * p.oh, row_begin + p.rows_per_chunk);
  const int e_end = row_end * p.ow;
  for (int e = row_begin * p.ow + tid; e < e_end; e += nthreads) {
    const int rr = e / p.ow, ox = e - rr * p.ow;
    const int nn = rr / p.oh, oy = rr - nn * p.oh;
    const T g = dy[(static_cast<int64_t>(nn) * p.k + k) * p.oh * p.ow + oy * p.ow + ox];
    const T* xp = x + (static_cast<int64_t>(nn) * p.c + c) * p.h * p.w;
    const int iy0 = oy * p.stride_h - p.pad_h, ix0 = ox * p.stride_w - p.pad_w;
    for (int t = 0; t < kTaps; ++t) {
      const int tap = tap0 + t;
      const int r = tap / S, s = tap - r * S;
      const int iy = iy0 + r * p.dil_h, ix = ix0 + s * p.dil_w;
      if (static_cast<unsigned>(iy) < static_cast<unsigned>(p.h) &&
          static_cast<unsigned>(ix) < static_cast<unsigned>(p.w)) {
        acc[t] += g * xp[iy * p.w + ix];
      }
    }
  }
}

// Where a block's sum for (row, tap, chunk) goes: dw itself when there is one chunk, else the
// workspace, laid out so that the chunks of one weight are contiguous.
RTSEG_HOST_DEVICE inline int64_t weight_grad_slot(const DirectConvParams& p, int row, int tap,
                                                  int chunk) {
  return (static_cast<int64_t>(row) * p.r * p.s + tap) * p.chunks + chunk;
}

// dw[i] = Σ over chunks, in chunk order, of the partial sums in the workspace.
template <typename T>
RTSEG_HOST_DEVICE inline void weight_grad_finish(T* dw, const T* partial, const DirectConvParams& p,
                                                 int64_t i) {
  T acc = T(0);
  for (int chunk = 0; chunk < p.chunks; ++chunk) acc += partial[i * p.chunks + chunk];
  dw[i] = acc;
}

// ---- entry points (device pointers, asynchronous on `stream`; NCHW / OIHW contiguous)

// y = conv(x, w) + bias (bias may be null). Requires direct_conv_indexable(g).
template <typename T>
void grouped_conv2d_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g,
                            Stream stream);

// dx = gradient of the input (overwritten).
template <typename T>
void grouped_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                  Stream stream);

// Elements of T the weight gradient needs as workspace (0 when one chunk suffices).
inline int64_t grouped_conv2d_backward_weight_workspace(const Conv2dGeometry& g) {
  const DirectConvParams p = direct_conv_params(g);
  return p.chunks > 1 ? g.weight_numel() * p.chunks : 0;
}

// dw = gradient of the weight (overwritten), for any groups (depthwise included). `workspace`
// holds grouped_conv2d_backward_weight_workspace(g) elements (may be null when that is 0).
template <typename T>
void grouped_conv2d_backward_weight(T* dw, const T* dy, const T* x, const Conv2dGeometry& g,
                                    T* workspace, Stream stream);

}  // namespace rtseg::cuda
