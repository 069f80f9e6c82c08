// Bilinear and nearest resizing of a stack of H×W planes (N·C of them), forward and backward.
// The source coordinates follow PyTorch's CPU upsample kernels step for step (including the
// arithmetic type: the scale is computed in T for bilinear and in float for nearest), so the
// sampled positions and weights agree with F.interpolate bit for bit where the rounding allows.
// The per-element functions are host-device (RTSEG_HOST_DEVICE): the CUDA kernels
// (kernels/cuda/resize.cu) run exactly this arithmetic, including the per-input-element gathers
// at the end of this file that replace the scatter of the backward on the GPU. The entry points
// have the signatures of their CUDA twins (kernels/cuda/resize.h) and overwrite their outputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/exec.h"
#include "kernels/host_device.h"

namespace rtseg::cpu {

struct ResizeGeometry {
  int64_t planes = 0;  // N·C
  int64_t in_h = 0, in_w = 0;
  int64_t out_h = 0, out_w = 0;
};

// Where output index `dst` samples along one axis: between i0 and i1 with weights l0 + l1 = 1.
template <typename T>
struct LinearTap {
  int64_t i0, i1;
  T l0, l1;
};

// Products and sums of the sample-position arithmetic, rounded once each: nvcc would otherwise
// contract scale·(d + ½) − ½ into an fma on the GPU and could land a sample on the other side of
// a pixel boundary from the CPU. Host code is compiled without contraction (ISO C++ mode).
RTSEG_HOST_DEVICE inline float resize_mul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
RTSEG_HOST_DEVICE inline double resize_mul(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
RTSEG_HOST_DEVICE inline float resize_add(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
RTSEG_HOST_DEVICE inline double resize_add(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

// align_corners: the corner centres coincide, so (in−1)/(out−1); a single output sits on 0.
template <typename T>
RTSEG_HOST_DEVICE inline T linear_scale(int64_t in, int64_t out, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  return static_cast<T>(in) / static_cast<T>(out);
}

// The tap of output index d (PyTorch's area_pixel_compute_source_index and its clamps). Shared by
// the CPU reference and the CUDA kernels so both sample the same positions with the same weights.
template <typename T>
RTSEG_HOST_DEVICE inline LinearTap<T> linear_tap(int64_t d, T scale, int64_t in,
                                                 bool align_corners) {
  T src = align_corners
              ? resize_mul(scale, static_cast<T>(d))
              : resize_add(resize_mul(scale, resize_add(static_cast<T>(d), T(0.5))), T(-0.5));
  // Pixel-centre mapping puts the first outputs of an upsampling left of pixel 0: clamp there
  // (PyTorch does; a mirrored or extrapolated sample would differ at the border).
  if (src < T(0)) src = T(0);
  int64_t i0 = static_cast<int64_t>(src);
  if (i0 > in - 1) i0 = in - 1;
  const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
  T l1 = resize_add(src, -static_cast<T>(i0));
  l1 = l1 < T(0) ? T(0) : (l1 > T(1) ? T(1) : l1);
  return {i0, i1, resize_add(T(1), -l1), l1};
}

template <typename T>
std::vector<LinearTap<T>> linear_taps(int64_t in, int64_t out, bool align_corners) {
  const T scale = linear_scale<T>(in, out, align_corners);
  std::vector<LinearTap<T>> taps(static_cast<size_t>(out));
  for (int64_t d = 0; d < out; ++d)
    taps[static_cast<size_t>(d)] = linear_tap(d, scale, in, align_corners);
  return taps;
}

// The value of one output from the plane `src` (row length in_w) and its two taps; the CUDA
// forward evaluates the same expression (with the same single roundings).
template <typename T>
RTSEG_HOST_DEVICE inline T bilinear_sample(const T* src, int64_t in_w, const LinearTap<T>& y,
                                           const LinearTap<T>& x) {
  const T* r0 = src + y.i0 * in_w;
  const T* r1 = src + y.i1 * in_w;
  const T top = resize_add(resize_mul(x.l0, r0[x.i0]), resize_mul(x.l1, r0[x.i1]));
  const T bottom = resize_add(resize_mul(x.l0, r1[x.i0]), resize_mul(x.l1, r1[x.i1]));
  return resize_add(resize_mul(y.l0, top), resize_mul(y.l1, bottom));
}

template <typename T>
void bilinear_forward(const Exec& exec, T* out, const T* in, const ResizeGeometry& g,
                      bool align_corners) {
  const auto ty = linear_taps<T>(g.in_h, g.out_h, align_corners);
  const auto tx = linear_taps<T>(g.in_w, g.out_w, align_corners);
  exec.for_ranges(g.planes, grain_for(g.out_h * g.out_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* src = in + p * g.in_h * g.in_w;
      T* dst = out + p * g.out_h * g.out_w;
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          dst[oy * g.out_w + ox] = bilinear_sample(src, g.in_w, ty[static_cast<size_t>(oy)],
                                                   tx[static_cast<size_t>(ox)]);
        }
      }
    }
  });
}

// The transpose of the forward: every output gradient is scattered onto its four taps of the
// (zeroed) input gradient.
template <typename T>
void bilinear_backward(const Exec& exec, T* grad_in, const T* grad_out, const ResizeGeometry& g,
                       bool align_corners) {
  const auto ty = linear_taps<T>(g.in_h, g.out_h, align_corners);
  const auto tx = linear_taps<T>(g.in_w, g.out_w, align_corners);
  exec.for_ranges(g.planes, grain_for(g.out_h * g.out_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gi = grad_in + p * g.in_h * g.in_w;
      const T* go = grad_out + p * g.out_h * g.out_w;
      for (int64_t i = 0; i < g.in_h * g.in_w; ++i) gi[i] = T(0);
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        const LinearTap<T>& y = ty[static_cast<size_t>(oy)];
        T* r0 = gi + y.i0 * g.in_w;
        T* r1 = gi + y.i1 * g.in_w;
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          const LinearTap<T>& x = tx[static_cast<size_t>(ox)];
          const T v = go[oy * g.out_w + ox];
          r0[x.i0] += y.l0 * x.l0 * v;
          r0[x.i1] += y.l0 * x.l1 * v;
          r1[x.i0] += y.l1 * x.l0 * v;
          r1[x.i1] += y.l1 * x.l1 * v;
        }
      }
    }
  });
}

// PyTorch's mode='nearest' source index: floor(dst·in/out) with the scale in float, clamped to
// in−1, and exact shortcuts for the identity and ×2 cases (which PyTorch takes as well; float
// rounding could otherwise pick a different pixel on large sizes). dst·scale ≥ 0, so the
// truncating conversion is the floor. Shared with the CUDA kernels.
RTSEG_HOST_DEVICE inline float nearest_scale(int64_t in, int64_t out) {
  return static_cast<float>(in) / static_cast<float>(out);
}

RTSEG_HOST_DEVICE inline int64_t nearest_tap(int64_t d, float scale, int64_t in, int64_t out) {
  if (out == in) return d;
  if (out == 2 * in) return d >> 1;
  const int64_t s = static_cast<int64_t>(resize_mul(static_cast<float>(d), scale));
  return s < in - 1 ? s : in - 1;
}

inline std::vector<int64_t> nearest_taps(int64_t in, int64_t out) {
  std::vector<int64_t> taps(static_cast<size_t>(out));
  const float scale = nearest_scale(in, out);
  for (int64_t d = 0; d < out; ++d) taps[static_cast<size_t>(d)] = nearest_tap(d, scale, in, out);
  return taps;
}

template <typename T>
void nearest_forward(const Exec& exec, T* out, const T* in, const ResizeGeometry& g) {
  const auto ty = nearest_taps(g.in_h, g.out_h);
  const auto tx = nearest_taps(g.in_w, g.out_w);
  exec.for_ranges(g.planes, grain_for(g.out_h * g.out_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* src = in + p * g.in_h * g.in_w;
      T* dst = out + p * g.out_h * g.out_w;
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        const T* row = src + ty[static_cast<size_t>(oy)] * g.in_w;
        for (int64_t ox = 0; ox < g.out_w; ++ox)
          dst[oy * g.out_w + ox] = row[tx[static_cast<size_t>(ox)]];
      }
    }
  });
}

template <typename T>
void nearest_backward(const Exec& exec, T* grad_in, const T* grad_out, const ResizeGeometry& g) {
  const auto ty = nearest_taps(g.in_h, g.out_h);
  const auto tx = nearest_taps(g.in_w, g.out_w);
  exec.for_ranges(g.planes, grain_for(g.out_h * g.out_w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gi = grad_in + p * g.in_h * g.in_w;
      const T* go = grad_out + p * g.out_h * g.out_w;
      for (int64_t i = 0; i < g.in_h * g.in_w; ++i) gi[i] = T(0);
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        T* row = gi + ty[static_cast<size_t>(oy)] * g.in_w;
        for (int64_t ox = 0; ox < g.out_w; ++ox)
          row[tx[static_cast<size_t>(ox)]] += go[oy * g.out_w + ox];
      }
    }
  });
}

// ---- The backward passes seen from one input element: what the CUDA kernels run (a thread per
// input element, no atomics). The taps are non-decreasing in the output index (every rounded
// step of linear_tap / nearest_tap is monotone), so the outputs that read input index i form a
// contiguous range, found by binary search; the gathers visit them in the order the scatter
// loops above add them, so they reproduce those sums exactly (tests/test_resize.cpp checks).

struct TapRange {
  int64_t begin, end;  // output indices [begin, end)
};

// First output index d in [0, out] whose tap i0 is ≥ v.
template <typename T>
RTSEG_HOST_DEVICE inline int64_t first_linear_from(int64_t v, T scale, int64_t in, int64_t out,
                                                   bool align_corners) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (linear_tap(mid, scale, in, align_corners).i0 < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// The outputs whose tap pair contains input index i: from i0 = i − 1 (then i1 = i) to i0 = i.
template <typename T>
RTSEG_HOST_DEVICE inline TapRange linear_sources(int64_t i, T scale, int64_t in, int64_t out,
                                                 bool align_corners) {
  return {first_linear_from(i - 1, scale, in, out, align_corners),
          first_linear_from(i + 1, scale, in, out, align_corners)};
}

// d loss / d in[iy, ix] of one plane from its output gradient `go` (out_h × out_w): per output
// (row by row), its four tap terms in bilinear_backward's order.
template <typename T>
RTSEG_HOST_DEVICE inline T bilinear_input_grad(const T* go, const ResizeGeometry& g, T scale_h,
                                               T scale_w, bool align_corners, int64_t iy,
                                               int64_t ix, TapRange ys, TapRange xs) {
  T acc = T(0);
  for (int64_t oy = ys.begin; oy < ys.end; ++oy) {
    const LinearTap<T> y = linear_tap(oy, scale_h, g.in_h, align_corners);
    for (int64_t ox = xs.begin; ox < xs.end; ++ox) {
      const LinearTap<T> x = linear_tap(ox, scale_w, g.in_w, align_corners);
      const T v = go[oy * g.out_w + ox];
      if (y.i0 == iy) {
        if (x.i0 == ix) acc = resize_add(acc, resize_mul(resize_mul(y.l0, x.l0), v));
        if (x.i1 == ix) acc = resize_add(acc, resize_mul(resize_mul(y.l0, x.l1), v));
      }
      if (y.i1 == iy) {
        if (x.i0 == ix) acc = resize_add(acc, resize_mul(resize_mul(y.l1, x.l0), v));
        if (x.i1 == ix) acc = resize_add(acc, resize_mul(resize_mul(y.l1, x.l1), v));
      }
    }
  }
  return acc;
}

RTSEG_HOST_DEVICE inline int64_t first_nearest_from(int64_t v, float scale, int64_t in,
                                                    int64_t out) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (nearest_tap(mid, scale, in, out) < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

RTSEG_HOST_DEVICE inline TapRange nearest_sources(int64_t i, float scale, int64_t in, int64_t out) {
  return {first_nearest_from(i, scale, in, out), first_nearest_from(i + 1, scale, in, out)};
}

// Σ of the output gradients over the outputs that copy the input element, row by row.
template <typename T>
RTSEG_HOST_DEVICE inline T nearest_input_grad(const T* go, int64_t out_w, TapRange ys,
                                              TapRange xs) {
  T acc = T(0);
  for (int64_t oy = ys.begin; oy < ys.end; ++oy) {
    for (int64_t ox = xs.begin; ox < xs.end; ++ox) acc = resize_add(acc, go[oy * out_w + ox]);
  }
  return acc;
}

}  // namespace rtseg::cpu
