// Hand-written CUDA depthwise convolution (groups == C, K = m·C for a depth multiplier m): any
// kernel size (3×3 unrolled, others generic), any dilation, any stride (1 and 2 specialised in the
// backward pass), forward with an optional fused bias + activation epilogue, and backward-data.
// The weight gradient is grouped_conv2d_backward_weight (grouped_conv.h): a depthwise conv is the
// grouped conv with one input channel per group.
//
// Depthwise conv is memory-bound (PERF-NOTES §4), so the design is about moving each input once:
// each block owns a 2-D tile of one (n, c) plane and stages the source region its tile reads —
// input tile + halo of dilation·(kernel − 1) for the forward pass, the output-gradient region for
// the backward pass — in shared memory, clipped to the image so zero padding is never stored or
// read from DRAM. The forward block then produces the tile for all m output channels of its input
// channel from the one staged copy. Tile sizes are planned on the host from the geometry: as wide
// as the plane (up to 128 columns, multiples of 32 so warps write whole rows), ~2048 outputs per
// block (8 per thread), fewer rows when the grid would be too small to fill the GPU, and shrunk
// until the staged region fits in 48 KiB; when even a 8×32 tile does not fit (huge dilation with
// a large kernel) the backend chooser sends the conv to the grouped kernel instead.
//
// As in grouped_conv.h, the block bodies are host+device functions that tests/test_conv.cpp
// also runs on the CPU with emulated blocks and threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/conv_epilogue.h"
#include "kernels/cuda/grouped_conv.h"

namespace rtseg::cuda {

constexpr int kDepthwiseThreads = 256;
constexpr size_t kDepthwiseSmemBudget = 48 * 1024;  // the default dynamic limit, no opt-in

inline bool is_depthwise(const Conv2dGeometry& g) {
  return g.groups == g.c && g.c_per_group() == 1;
}

// How a pass tiles its target planes (outputs for forward, input gradients for backward-data).
struct DepthwiseTilePlan {
  int64_t tile_h = 0, tile_w = 0;    // target elements per block
  int64_t tiles_h = 0, tiles_w = 0;  // blocks per plane along each axis
  int64_t stage_h = 0, stage_w = 0;  // upper bound of the staged source region
  size_t smem_bytes = 0;
  bool fits = false;
};

namespace depthwise_detail {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// stage_h(th) / stage_w(tw): largest source region a tile of th rows / tw columns stages.
template <typename StageH, typename StageW>
DepthwiseTilePlan plan_tiles(int64_t target_h, int64_t target_w, int64_t planes, size_t elem_bytes,
                             StageH stage_h, StageW stage_w) {
  const auto smem = [&](int64_t th, int64_t tw) {
    return static_cast<size_t>(stage_h(th) * stage_w(tw)) * elem_bytes;
  };
  const int64_t strips = ceil_div(target_w, 128);
  int64_t tw = ceil_div(ceil_div(target_w, strips), 32) * 32;
  int64_t th = ceil_div(ceil_div(2048, tw), 8) * 8;
  if (th > ceil_div(target_h, 8) * 8) th = ceil_div(target_h, 8) * 8;
  const auto blocks = [&] { return planes * ceil_div(target_h, th) * ceil_div(target_w, tw); };
  while (th > 8 && blocks() < 512) th -= 8;  // ~4 blocks per SM on a 132-SM H100
  while (th > 8 && smem(th, tw) > kDepthwiseSmemBudget) th -= 8;
  while (tw > 32 && smem(th, tw) > kDepthwiseSmemBudget) tw -= 32;
  DepthwiseTilePlan plan;
  plan.tile_h = th;
  plan.tile_w = tw;
  plan.tiles_h = ceil_div(target_h, th);
  plan.tiles_w = ceil_div(target_w, tw);
  plan.stage_h = stage_h(th);
  plan.stage_w = stage_w(tw);
  plan.smem_bytes = smem(th, tw);
  plan.fits = plan.smem_bytes <= kDepthwiseSmemBudget;
  return plan;
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

}  // namespace depthwise_detail

// Forward: a tile of th×tw outputs reads (th−1)·sh + (R−1)·dh + 1 input rows (and likewise
// columns), never more than the image.
inline DepthwiseTilePlan plan_depthwise_forward(const Conv2dGeometry& g, size_t elem_bytes) {
  using depthwise_detail::min64;
  return depthwise_detail::plan_tiles(
      g.oh, g.ow, g.n * g.c, elem_bytes,
      [&](int64_t th) { return min64(g.h, (th - 1) * g.stride_h + (g.r - 1) * g.dil_h + 1); },
      [&](int64_t tw) { return min64(g.w, (tw - 1) * g.stride_w + (g.s - 1) * g.dil_w + 1); });
}

// Backward-data: a tile of th input rows receives gradient from at most
// ⌊(th − 1 + (R−1)·dh) / sh⌋ + 1 output rows (and likewise columns), never more than the output.
inline DepthwiseTilePlan plan_depthwise_backward_data(const Conv2dGeometry& g, size_t elem_bytes) {
  using depthwise_detail::min64;
  return depthwise_detail::plan_tiles(
      g.h, g.w, g.n * g.c, elem_bytes,
      [&](int64_t th) { return min64(g.oh, (th - 1 + (g.r - 1) * g.dil_h) / g.stride_h + 1); },
      [&](int64_t tw) { return min64(g.ow, (tw - 1 + (g.s - 1) * g.dil_w) / g.stride_w + 1); });
}

// Whether the depthwise kernels take this conv: depthwise, indexable, and both passes' tiles fit
// in shared memory for float64 (so float32 and float64 always take the same path).
inline bool depthwise_supported(const Conv2dGeometry& g) {
  return is_depthwise(g) && direct_conv_indexable(g) && plan_depthwise_forward(g, 8).fits &&
         plan_depthwise_backward_data(g, 8).fits;
}

// The compile-time variants the launchers instantiate (and the CPU emulation mirrors): the
// kernel size (3 unrolled, 0 generic) and, for the backward-data pass, the stride (1 and 2 turn
// the divisibility tests into bit tests, 0 is the runtime stride).
inline int depthwise_kernel_variant(const Conv2dGeometry& g) {
  return g.r == 3 && g.s == 3 ? 3 : 0;
}
inline int depthwise_stride_variant(const Conv2dGeometry& g) {
  return g.stride_h == g.stride_w && g.stride_h <= 2 ? static_cast<int>(g.stride_h) : 0;
}

struct DepthwiseParams {
  int c, h, w, k, oh, ow, r, s;
  int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int mult;                     // output channels per input channel
  int tile_h, tile_w, tiles_w;  // of the pass being launched
};

inline DepthwiseParams depthwise_params(const Conv2dGeometry& g, const DepthwiseTilePlan& plan) {
  const DirectConvParams d = direct_conv_params(g);  // checks the 32-bit index range
  DepthwiseParams p{};
  p.c = d.c;
  p.h = d.h;
  p.w = d.w;
  p.k = d.k;
  p.oh = d.oh;
  p.ow = d.ow;
  p.r = d.r;
  p.s = d.s;
  p.stride_h = d.stride_h;
  p.stride_w = d.stride_w;
  p.pad_h = d.pad_h;
  p.pad_w = d.pad_w;
  p.dil_h = d.dil_h;
  p.dil_w = d.dil_w;
  p.mult = d.kg;
  p.tile_h = static_cast<int>(plan.tile_h);
  p.tile_w = static_cast<int>(plan.tile_w);
  p.tiles_w = static_cast<int>(plan.tiles_w);
  return p;
}

// ---- bodies shared by the kernels and the CPU emulation in the tests

// The target elements of one block, [y0, y1) × [x0, x1) of its plane, and the source region it
// stages: `rows`×`cols` elements from (sy0, sx0) of the source plane (0×0 when nothing reaches
// the tile).
struct TileWindow {
  int y0, y1, x0, x1;
  int sy0, sx0, rows, cols;
};

RTSEG_HOST_DEVICE inline TileWindow tile_target(const DepthwiseParams& p, int tile, int plane_h,
                                                int plane_w) {
  TileWindow t{};
  const int ty = tile / p.tiles_w, tx = tile - ty * p.tiles_w;
  t.y0 = ty * p.tile_h;
  t.y1 = conv_imin(t.y0 + p.tile_h, plane_h);
  t.x0 = tx * p.tile_w;
  t.x1 = conv_imin(t.x0 + p.tile_w, plane_w);
  return t;
}

// Forward: the inputs the tile's outputs read, clipped to the image.
RTSEG_HOST_DEVICE inline TileWindow depthwise_forward_window(const DepthwiseParams& p, int tile) {
  TileWindow t = tile_target(p, tile, p.oh, p.ow);
  t.sy0 = conv_imax(0, t.y0 * p.stride_h - p.pad_h);
  const int sy1 = conv_imin(p.h, (t.y1 - 1) * p.stride_h - p.pad_h + (p.r - 1) * p.dil_h + 1);
  t.sx0 = conv_imax(0, t.x0 * p.stride_w - p.pad_w);
  const int sx1 = conv_imin(p.w, (t.x1 - 1) * p.stride_w - p.pad_w + (p.s - 1) * p.dil_w + 1);
  t.rows = conv_imax(0, sy1 - t.sy0);
  t.cols = conv_imax(0, sx1 - t.sx0);
  if (t.rows == 0 || t.cols == 0) t.rows = t.cols = 0;
  return t;
}

// Backward-data: the outputs whose taps land in the tile, oy·sh − ph + r·dh ∈ [y0, y1) for some
// r, clipped to the output.
RTSEG_HOST_DEVICE inline TileWindow depthwise_backward_data_window(const DepthwiseParams& p,
                                                                   int tile) {
  TileWindow t = tile_target(p, tile, p.h, p.w);
  t.sy0 = conv_imax(0, conv_ceil_div(t.y0 + p.pad_h - (p.r - 1) * p.dil_h, p.stride_h));
  const int sy1 = conv_imin(p.oh, (t.y1 - 1 + p.pad_h) / p.stride_h + 1);
  t.sx0 = conv_imax(0, conv_ceil_div(t.x0 + p.pad_w - (p.s - 1) * p.dil_w, p.stride_w));
  const int sx1 = conv_imin(p.ow, (t.x1 - 1 + p.pad_w) / p.stride_w + 1);
  t.rows = conv_imax(0, sy1 - t.sy0);
  t.cols = conv_imax(0, sx1 - t.sx0);
  if (t.rows == 0 || t.cols == 0) t.rows = t.cols = 0;
  return t;
}

// Copies the window's source region of `plane` (row length plane_w) into smem, row-major with
// row length t.cols; consecutive threads read consecutive elements.
template <typename T>
RTSEG_HOST_DEVICE inline void stage_region(T* smem, const T* plane, int plane_w,
                                           const TileWindow& t, int tid, int nthreads) {
  const int count = t.rows * t.cols;
  for (int i = tid; i < count; i += nthreads) {
    const int ry = i / t.cols, rx = i - ry * t.cols;
    smem[i] = plane[(t.sy0 + ry) * plane_w + t.sx0 + rx];
  }
}

// Forward for one output channel: y_plane[oy, ox] = epilogue(bias + Σ_{r,s} x[iy, ix]·w[r, s])
// over the tile, reading x from the staged region. A tap outside the staged region is outside
// the image (the region holds every in-image input the tile reads), i.e. zero padding.
template <typename T, int KS>
RTSEG_HOST_DEVICE inline void depthwise_forward_tile(T* y_plane, const T* smem, const T* wk, T bias,
                                                     ConvEpilogue epilogue,
                                                     const DepthwiseParams& p, const TileWindow& t,
                                                     int tid, int nthreads) {
  const int R = KS > 0 ? KS : p.r, S = KS > 0 ? KS : p.s;
  [[maybe_unused]] T wreg[KS > 0 ? KS * KS : 1];
  if constexpr (KS > 0) {
    for (int i = 0; i < KS * KS; ++i) wreg[i] = wk[i];
  }
  const int tw = t.x1 - t.x0, count = (t.y1 - t.y0) * tw;
  for (int i = tid; i < count; i += nthreads) {
    const int row = i / tw;
    const int oy = t.y0 + row, ox = t.x0 + (i - row * tw);
    const int ry0 = oy * p.stride_h - p.pad_h - t.sy0;
    const int rx0 = ox * p.stride_w - p.pad_w - t.sx0;
    T acc = bias;
    for (int r = 0; r < R; ++r) {
      const int ry = ry0 + r * p.dil_h;
      if (static_cast<unsigned>(ry) >= static_cast<unsigned>(t.rows)) continue;
      const T* src = smem + ry * t.cols;
      for (int s = 0; s < S; ++s) {
        const int rx = rx0 + s * p.dil_w;
        if (static_cast<unsigned>(rx) >= static_cast<unsigned>(t.cols)) continue;
        if constexpr (KS > 0) {
          acc += src[rx] * wreg[r * KS + s];
        } else {
          acc += src[rx] * wk[r * S + s];
        }
      }
    }
    y_plane[oy * p.ow + ox] = apply_epilogue(acc, epilogue);
  }
}

// The output index o with o·stride = v, if there is one (ST = 1 or 2 known at compile time, 0 for
// the runtime stride). Works for negative v (C++ remainders of negative multiples are 0).
template <int ST>
RTSEG_HOST_DEVICE inline bool output_index(int v, int stride, int& o) {
  if constexpr (ST == 1) {
    o = v;
    return true;
  } else if constexpr (ST == 2) {
    if (v & 1) return false;
    o = v / 2;
    return true;
  } else {
    if (v % stride != 0) return false;
    o = v / stride;
    return true;
  }
}

// Backward-data for one output channel: dx_plane[iy, ix] (+)= Σ_{r,s} dy[oy, ox]·w[r, s] over the
// taps with oy·sh − ph + r·dh = iy and ox·sw − pw + s·dw = ix, reading dy from the staged region.
// `accumulate` adds to what the same thread stored for the previous output channel.
template <typename T, int KS, int ST>
RTSEG_HOST_DEVICE inline void depthwise_backward_data_tile(T* dx_plane, const T* smem, const T* wk,
                                                           bool accumulate,
                                                           const DepthwiseParams& p,
                                                           const TileWindow& t, int tid,
                                                           int nthreads) {
  const int R = KS > 0 ? KS : p.r, S = KS > 0 ? KS : p.s;
  [[maybe_unused]] T wreg[KS > 0 ? KS * KS : 1];
  if constexpr (KS > 0) {
    for (int i = 0; i < KS * KS; ++i) wreg[i] = wk[i];
  }
  const int tw = t.x1 - t.x0, count = (t.y1 - t.y0) * tw;
  for (int i = tid; i < count; i += nthreads) {
    const int row = i / tw;
    const int iy = t.y0 + row, ix = t.x0 + (i - row * tw);
    T acc = T(0);
    for (int r = 0; r < R; ++r) {
      int oy;
      if (!output_index<ST>(iy + p.pad_h - r * p.dil_h, p.stride_h, oy)) continue;
      const int ry = oy - t.sy0;
      if (static_cast<unsigned>(ry) >= static_cast<unsigned>(t.rows)) continue;
      const T* src = smem + ry * t.cols;
      for (int s = 0; s < S; ++s) {
        int ox;
        if (!output_index<ST>(ix + p.pad_w - s * p.dil_w, p.stride_w, ox)) continue;
        const int rx = ox - t.sx0;
        if (static_cast<unsigned>(rx) >= static_cast<unsigned>(t.cols)) continue;
        if constexpr (KS > 0) {
          acc += src[rx] * wreg[r * KS + s];
        } else {
          acc += src[rx] * wk[r * S + s];
        }
      }
    }
    const int idx = iy * p.w + ix;
    dx_plane[idx] = accumulate ? dx_plane[idx] + acc : acc;
  }
}

// ---- entry points (device pointers, asynchronous on `stream`; NCHW / OIHW contiguous)

// y = epilogue(conv(x, w) + bias) (bias may be null). Requires depthwise_supported(g).
template <typename T>
void depthwise_conv2d_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g,
                              ConvEpilogue epilogue, Stream stream);

// dx = gradient of the input (overwritten). Requires depthwise_supported(g).
template <typename T>
void depthwise_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                    Stream stream);

}  // namespace rtseg::cuda
