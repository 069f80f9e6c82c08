// Reference PReLU kernels over a contiguous input viewed as outer × C × inner (outer = N, inner =
// the spatial size), with one slope per channel; a single shared slope is the case C = 1.
#pragma once

#include <cstdint>

namespace rtseg::cpu {

template <typename T>
void prelu_forward(T* y, const T* x, const T* weight, int64_t outer, int64_t c, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < c; ++k) {
      const T a = weight[k];
      const int64_t base = (o * c + k) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const T v = x[base + i];
        y[base + i] = v > T(0) ? v : a * v;
      }
    }
  }
}

// dx = g where x > 0 else a·g; da[k] = Σ over channel k of g·x where x ≤ 0 (the kink x = 0
// contributes nothing either way). dx or dweight may be null (not wanted).
template <typename T>
void prelu_backward(T* dx, T* dweight, const T* grad, const T* x, const T* weight, int64_t outer,
                    int64_t c, int64_t inner) {
  for (int64_t k = 0; k < c; ++k) {
    const T a = weight[k];
    double acc = 0.0;
    for (int64_t o = 0; o < outer; ++o) {
      const int64_t base = (o * c + k) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const T v = x[base + i], g = grad[base + i];
        if (dx) dx[base + i] = v > T(0) ? g : a * g;
        if (v <= T(0)) acc += g * v;
      }
    }
    if (dweight) dweight[k] = static_cast<T>(acc);
  }
}

}  // namespace rtseg::cpu
