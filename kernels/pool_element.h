// One output (forward) or one input element (backward) of each pooling op, as host-device
// functions. The CUDA kernels run them one per thread; the CPU tests check them against the
// reference loops of kernels/cpu/pool.h, which are written independently (their backward passes
// are scatters, these are gathers), so the GPU path's index arithmetic is tested even on machines
// without a GPU.
//
// Every function reproduces the reference's arithmetic in the reference's order: window sums in
// double, gradient shares divided in T and added in row-major output order. The gathers then give
// bit-identical gradients, and the forward passes differ only by the summation order of a double.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/pool_geometry.h"

namespace rtseg::pool {

// NaN test usable in device code for float and double (no fast-math anywhere in rtseg).
template <typename T>
RTSEG_HOST_DEVICE inline bool is_nan(T v) {
  return v != v;
}

template <typename T>
struct MaxAt {
  T value;
  int64_t at;  // index of the maximum within its plane (max pool) or image (channel max)
};

// Mean of output (oh, ow)'s window in `plane`, with PyTorch's divisor.
template <typename T>
RTSEG_HOST_DEVICE T avg_pool_output(const T* plane, const Pool2dGeometry& g, int64_t oh, int64_t ow,
                                    bool count_include_pad) {
  const PoolWindow win = pool_window(g, oh, ow);
  if (win.area() <= 0) return T(0);
  double acc = 0.0;
  for (int64_t h = win.h0; h < win.h1; ++h) {
    for (int64_t w = win.w0; w < win.w1; ++w) acc += static_cast<double>(plane[h * g.in_w + w]);
  }
  return static_cast<T>(acc / static_cast<double>(win.divisor(count_include_pad)));
}

// Maximum of output (oh, ow)'s window: the first maximum in row-major order; a NaN wins at once.
template <typename T>
RTSEG_HOST_DEVICE MaxAt<T> max_pool_output(const T* plane, const Pool2dGeometry& g, int64_t oh,
                                           int64_t ow) {
  const PoolWindow win = pool_window(g, oh, ow);
  MaxAt<T> best{static_cast<T>(-INFINITY), win.h0 * g.in_w + win.w0};
  for (int64_t h = win.h0; h < win.h1; ++h) {
    for (int64_t w = win.w0; w < win.w1; ++w) {
      const T v = plane[h * g.in_w + w];
      if (v > best.value || is_nan(v)) {
        best = {v, h * g.in_w + w};
        if (is_nan(v)) return best;
      }
    }
  }
  return best;
}

// d loss / d x[h, w] of avg pooling: Σ over the windows containing (h, w) of grad / divisor.
template <typename T>
RTSEG_HOST_DEVICE T avg_pool_input_grad(const T* grad_plane, const Pool2dGeometry& g, int64_t h,
                                        int64_t w, bool count_include_pad) {
  const PoolSpan rows = pool_outputs_covering(h, g.kernel_h, g.stride_h, g.pad_h, g.out_h);
  const PoolSpan cols = pool_outputs_covering(w, g.kernel_w, g.stride_w, g.pad_w, g.out_w);
  T acc = T(0);
  for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
    for (int64_t ow = cols.begin; ow < cols.end; ++ow) {
      const PoolWindow win = pool_window(g, oh, ow);
      acc += grad_plane[oh * g.out_w + ow] / static_cast<T>(win.divisor(count_include_pad));
    }
  }
  return acc;
}

// d loss / d x[h, w] of max pooling: the gradients of the covering outputs whose argmax is here.
template <typename T>
RTSEG_HOST_DEVICE T max_pool_input_grad(const T* grad_plane, const int64_t* argmax_plane,
                                        const Pool2dGeometry& g, int64_t h, int64_t w) {
  const PoolSpan rows = pool_outputs_covering(h, g.kernel_h, g.stride_h, g.pad_h, g.out_h);
  const PoolSpan cols = pool_outputs_covering(w, g.kernel_w, g.stride_w, g.pad_w, g.out_w);
  const int64_t here = h * g.in_w + w;
  T acc = T(0);
  for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
    for (int64_t ow = cols.begin; ow < cols.end; ++ow) {
      if (argmax_plane[oh * g.out_w + ow] == here) acc += grad_plane[oh * g.out_w + ow];
    }
  }
  return acc;
}

// Sizes of adaptive pooling over one plane.
struct AdaptiveGeometry {
  int64_t planes, in_h, in_w, out_h, out_w;
};

template <typename T>
RTSEG_HOST_DEVICE T adaptive_avg_output(const T* plane, const AdaptiveGeometry& g, int64_t oh,
                                        int64_t ow) {
  const int64_t h0 = adaptive_start(oh, g.in_h, g.out_h), h1 = adaptive_end(oh, g.in_h, g.out_h);
  const int64_t w0 = adaptive_start(ow, g.in_w, g.out_w), w1 = adaptive_end(ow, g.in_w, g.out_w);
  double acc = 0.0;
  for (int64_t h = h0; h < h1; ++h) {
    for (int64_t w = w0; w < w1; ++w) acc += static_cast<double>(plane[h * g.in_w + w]);
  }
  return static_cast<T>(acc / static_cast<double>((h1 - h0) * (w1 - w0)));
}

template <typename T>
RTSEG_HOST_DEVICE T adaptive_avg_input_grad(const T* grad_plane, const AdaptiveGeometry& g,
                                            int64_t h, int64_t w) {
  const PoolSpan rows = adaptive_outputs_covering(h, g.in_h, g.out_h);
  const PoolSpan cols = adaptive_outputs_covering(w, g.in_w, g.out_w);
  T acc = T(0);
  for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
    const int64_t area_h = adaptive_end(oh, g.in_h, g.out_h) - adaptive_start(oh, g.in_h, g.out_h);
    for (int64_t ow = cols.begin; ow < cols.end; ++ow) {
      const int64_t area_w =
          adaptive_end(ow, g.in_w, g.out_w) - adaptive_start(ow, g.in_w, g.out_w);
      acc += grad_plane[oh * g.out_w + ow] / static_cast<T>(area_h * area_w);
    }
  }
  return acc;
}

// Across the c channels of one image (c×s values) at spatial position i: the first maximal
// channel (a NaN wins), its position given as k·s + i like the reference's argmax.
template <typename T>
RTSEG_HOST_DEVICE MaxAt<T> channel_max_at(const T* image, int64_t c, int64_t s, int64_t i) {
  MaxAt<T> best{image[i], i};
  for (int64_t k = 1; k < c && !is_nan(best.value); ++k) {
    const T v = image[k * s + i];
    if (v > best.value || is_nan(v)) best = {v, k * s + i};
  }
  return best;
}

template <typename T>
RTSEG_HOST_DEVICE T channel_mean_at(const T* image, int64_t c, int64_t s, int64_t i) {
  double acc = 0.0;
  for (int64_t k = 0; k < c; ++k) acc += static_cast<double>(image[k * s + i]);
  return static_cast<T>(acc / static_cast<double>(c));
}

}  // namespace rtseg::pool
