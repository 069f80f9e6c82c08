// Reference pooling kernels over contiguous NCHW data: spatial average / max / adaptive average
// pooling per plane, and max / mean across channels. Sums accumulate in double so that the float
// path is a trustworthy reference for large windows (adaptive 1×1 pooling over a full image).
// Backward kernels overwrite grad_in entirely. Every entry point has the signature of its CUDA
// twin (kernels/cuda/pool.h) and runs its independent planes (images, for the reductions across
// channels) through the context's ranges, so the values never depend on how they are split.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/exec.h"
#include "kernels/pool_geometry.h"

namespace rtseg::cpu {

template <typename T>
void avg_pool2d_forward(const Exec& exec, T* out, const T* x, const Pool2dGeometry& g,
                        bool count_include_pad) {
  exec.for_ranges(g.planes, grain_for(g.in_h * g.in_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* plane = x + p * g.in_h * g.in_w;
      T* o = out + p * g.out_h * g.out_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const PoolWindow win = pool_window(g, oh, ow);
          if (win.area() <= 0) {  // cannot happen with PyTorch's padding rule; kept as PyTorch does
            o[oh * g.out_w + ow] = T(0);
            continue;
          }
          double acc = 0.0;
          for (int64_t h = win.h0; h < win.h1; ++h) {
            for (int64_t w = win.w0; w < win.w1; ++w) acc += plane[h * g.in_w + w];
          }
          o[oh * g.out_w + ow] =
              static_cast<T>(acc / static_cast<double>(win.divisor(count_include_pad)));
        }
      }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const Pool2dGeometry& g,
                         bool count_include_pad) {
  exec.for_ranges(g.planes, grain_for(g.in_h * g.in_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gi = grad_in + p * g.in_h * g.in_w;
      const T* go = grad_out + p * g.out_h * g.out_w;
      for (int64_t i = 0; i < g.in_h * g.in_w; ++i) gi[i] = T(0);
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const PoolWindow win = pool_window(g, oh, ow);
          if (win.area() <= 0) continue;
          const T share = go[oh * g.out_w + ow] / static_cast<T>(win.divisor(count_include_pad));
          for (int64_t h = win.h0; h < win.h1; ++h) {
            for (int64_t w = win.w0; w < win.w1; ++w) gi[h * g.in_w + w] += share;
          }
        }
      }
    }
  });
}

// argmax[i] is the position (h·in_w + w, within its plane) of output i's maximum: the first one
// in row-major order on ties, and NaN wins (propagates), both as PyTorch. Padding never wins
// because the window is clipped to the input, which is what "padding is −inf" means. A null
// argmax is not written (no gradient wanted).
template <typename T>
void max_pool2d_forward(const Exec& exec, T* out, int64_t* argmax, const T* x,
                        const Pool2dGeometry& g) {
  exec.for_ranges(g.planes, grain_for(g.in_h * g.in_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* plane = x + p * g.in_h * g.in_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const PoolWindow win = pool_window(g, oh, ow);
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_at = win.h0 * g.in_w + win.w0;
          for (int64_t h = win.h0; h < win.h1; ++h) {
            for (int64_t w = win.w0; w < win.w1; ++w) {
              const T v = plane[h * g.in_w + w];
              if (v > best || std::isnan(v)) {
                best = v;
                best_at = h * g.in_w + w;
                if (std::isnan(v)) break;
              }
            }
            if (std::isnan(best)) break;
          }
          const int64_t i = (p * g.out_h + oh) * g.out_w + ow;
          out[i] = best;
          if (argmax != nullptr) argmax[i] = best_at;
        }
      }
    }
  });
}

// Scatters each output gradient to its argmax, group by group (planes of in_per_group inputs
// for max_pool2d, images for channel_max).
template <typename T>
void scatter_to_argmax(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                       int64_t groups, int64_t in_per_group, int64_t out_per_group) {
  exec.for_ranges(groups, grain_for(in_per_group), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gi = grad_in + p * in_per_group;
      const T* go = grad_out + p * out_per_group;
      const int64_t* am = argmax + p * out_per_group;
      for (int64_t i = 0; i < in_per_group; ++i) gi[i] = T(0);
      for (int64_t i = 0; i < out_per_group; ++i) gi[am[i]] += go[i];
    }
  });
}

template <typename T>
void max_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                         const Pool2dGeometry& g) {
  scatter_to_argmax(exec, grad_in, grad_out, argmax, g.planes, g.in_h * g.in_w, g.out_h * g.out_w);
}

template <typename T>
void adaptive_avg_pool2d_forward(const Exec& exec, T* out, const T* x, int64_t planes, int64_t in_h,
                                 int64_t in_w, int64_t out_h, int64_t out_w) {
  exec.for_ranges(planes, grain_for(in_h * in_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* plane = x + p * in_h * in_w;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const int64_t h0 = adaptive_start(oh, in_h, out_h), h1 = adaptive_end(oh, in_h, out_h);
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const int64_t w0 = adaptive_start(ow, in_w, out_w), w1 = adaptive_end(ow, in_w, out_w);
          double acc = 0.0;
          for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) acc += plane[h * in_w + w];
          }
          out[(p * out_h + oh) * out_w + ow] =
              static_cast<T>(acc / static_cast<double>((h1 - h0) * (w1 - w0)));
        }
      }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t planes,
                                  int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w) {
  exec.for_ranges(planes, grain_for(in_h * in_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gi = grad_in + p * in_h * in_w;
      for (int64_t i = 0; i < in_h * in_w; ++i) gi[i] = T(0);
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const int64_t h0 = adaptive_start(oh, in_h, out_h), h1 = adaptive_end(oh, in_h, out_h);
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const int64_t w0 = adaptive_start(ow, in_w, out_w), w1 = adaptive_end(ow, in_w, out_w);
          const T share =
              grad_out[(p * out_h + oh) * out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) gi[h * in_w + w] += share;
          }
        }
      }
    }
  });
}

// Across channels of an N×C×S input (S = H·W) into N×1×S. argmax (if not null) holds the
// channel offset c·S + s of the first maximal channel (NaN wins), ready for scatter_to_argmax
// with groups = N.
template <typename T>
void channel_max_forward(const Exec& exec, T* out, int64_t* argmax, const T* x, int64_t n,
                         int64_t c, int64_t s) {
  exec.for_ranges(n, grain_for(c * s), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* img = x + b * c * s;
      for (int64_t i = 0; i < s; ++i) {
        T best = img[i];
        int64_t best_c = 0;
        for (int64_t k = 1; k < c && !std::isnan(best); ++k) {
          const T v = img[k * s + i];
          if (v > best || std::isnan(v)) {
            best = v;
            best_c = k;
          }
        }
        out[b * s + i] = best;
        if (argmax != nullptr) argmax[b * s + i] = best_c * s + i;
      }
    }
  });
}

template <typename T>
void channel_max_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                          int64_t n, int64_t c, int64_t s) {
  scatter_to_argmax(exec, grad_in, grad_out, argmax, n, c * s, s);
}

template <typename T>
void channel_mean_forward(const Exec& exec, T* out, const T* x, int64_t n, int64_t c, int64_t s) {
  exec.for_ranges(n, grain_for(c * s), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t i = 0; i < s; ++i) {
        double acc = 0.0;
        for (int64_t k = 0; k < c; ++k) acc += x[(b * c + k) * s + i];
        out[b * s + i] = static_cast<T>(acc / static_cast<double>(c));
      }
    }
  });
}

template <typename T>
void channel_mean_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t n, int64_t c,
                           int64_t s) {
  const T scale = T(1) / static_cast<T>(c);
  exec.for_ranges(n, grain_for(c * s), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t k = 0; k < c; ++k) {
        for (int64_t i = 0; i < s; ++i) grad_in[(b * c + k) * s + i] = grad_out[b * s + i] * scale;
      }
    }
  });
}

}  // namespace rtseg::cpu
