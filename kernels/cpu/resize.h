// Bilinear and nearest resizing of a stack of H×W planes (N·C of them), forward and backward.
// The source coordinates follow PyTorch's CPU upsample kernels step for step (including the
// arithmetic type: the scale is computed in T for bilinear and in float for nearest), so the
// sampled positions and weights agree with F.interpolate bit for bit where the rounding allows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

template <typename T>
std::vector<LinearTap<T>> linear_taps(int64_t in, int64_t out, bool align_corners) {
  // align_corners: the corner centres coincide, so (in−1)/(out−1); a single output sits on 0.
  const T scale = align_corners
                      ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                      : static_cast<T>(in) / static_cast<T>(out);
  std::vector<LinearTap<T>> taps(static_cast<size_t>(out));
  for (int64_t d = 0; d < out; ++d) {
    T src =
        align_corners ? scale * static_cast<T>(d) : scale * (static_cast<T>(d) + T(0.5)) - T(0.5);
    // Pixel-centre mapping puts the first outputs of an upsampling left of pixel 0: clamp there
    // (PyTorch does; a mirrored or extrapolated sample would differ at the border).
    if (src < T(0)) src = T(0);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    const T l1 = std::min(std::max(src - static_cast<T>(i0), T(0)), T(1));
    taps[static_cast<size_t>(d)] = {i0, i1, T(1) - l1, l1};
  }
  return taps;
}

template <typename T>
void bilinear_forward(T* out, const T* in, const ResizeGeometry& g, bool align_corners) {
  const auto ty = linear_taps<T>(g.in_h, g.out_h, align_corners);
  const auto tx = linear_taps<T>(g.in_w, g.out_w, align_corners);
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* src = in + p * g.in_h * g.in_w;
    T* dst = out + p * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      const LinearTap<T>& y = ty[static_cast<size_t>(oy)];
      const T* r0 = src + y.i0 * g.in_w;
      const T* r1 = src + y.i1 * g.in_w;
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const LinearTap<T>& x = tx[static_cast<size_t>(ox)];
        dst[oy * g.out_w + ox] =
            y.l0 * (x.l0 * r0[x.i0] + x.l1 * r0[x.i1]) + y.l1 * (x.l0 * r1[x.i0] + x.l1 * r1[x.i1]);
      }
    }
  }
}

// The transpose of the forward: every output gradient is scattered onto its four taps.
// grad_in must be zeroed by the caller.
template <typename T>
void bilinear_backward(T* grad_in, const T* grad_out, const ResizeGeometry& g, bool align_corners) {
  const auto ty = linear_taps<T>(g.in_h, g.out_h, align_corners);
  const auto tx = linear_taps<T>(g.in_w, g.out_w, align_corners);
  for (int64_t p = 0; p < g.planes; ++p) {
    T* gi = grad_in + p * g.in_h * g.in_w;
    const T* go = grad_out + p * g.out_h * g.out_w;
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
}

// PyTorch's mode='nearest' source index: floor(dst·in/out) with the scale in float, clamped to
// in−1, and exact shortcuts for the identity and ×2 cases (which PyTorch takes as well; float
// rounding could otherwise pick a different pixel on large sizes).
inline std::vector<int64_t> nearest_taps(int64_t in, int64_t out) {
  std::vector<int64_t> taps(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    int64_t s;
    if (out == in) {
      s = d;
    } else if (out == 2 * in) {
      s = d >> 1;
    } else {
      s = std::min(static_cast<int64_t>(std::floor(static_cast<float>(d) * scale)), in - 1);
    }
    taps[static_cast<size_t>(d)] = s;
  }
  return taps;
}

template <typename T>
void nearest_forward(T* out, const T* in, const ResizeGeometry& g) {
  const auto ty = nearest_taps(g.in_h, g.out_h);
  const auto tx = nearest_taps(g.in_w, g.out_w);
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* src = in + p * g.in_h * g.in_w;
    T* dst = out + p * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      const T* row = src + ty[static_cast<size_t>(oy)] * g.in_w;
      for (int64_t ox = 0; ox < g.out_w; ++ox)
        dst[oy * g.out_w + ox] = row[tx[static_cast<size_t>(ox)]];
    }
  }
}

// grad_in must be zeroed by the caller.
template <typename T>
void nearest_backward(T* grad_in, const T* grad_out, const ResizeGeometry& g) {
  const auto ty = nearest_taps(g.in_h, g.out_h);
  const auto tx = nearest_taps(g.in_w, g.out_w);
  for (int64_t p = 0; p < g.planes; ++p) {
    T* gi = grad_in + p * g.in_h * g.in_w;
    const T* go = grad_out + p * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      T* row = gi + ty[static_cast<size_t>(oy)] * g.in_w;
      for (int64_t ox = 0; ox < g.out_w; ++ox)
        row[tx[static_cast<size_t>(ox)]] += go[oy * g.out_w + ox];
    }
  }
}

}  // namespace rtseg::cpu
