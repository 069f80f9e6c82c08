// Reference PReLU kernels over a contiguous input viewed as outer × C × inner (outer = N, inner =
// the spatial size), with one slope per channel; a single shared slope is the case C = 1. The
// entry points have the signatures of their CUDA twins (kernels/cuda/prelu.h); the context's
// ranges split (image, channel) rows forward and channels backward, which are independent.
#pragma once

#include <cstdint>

#include "kernels/cpu/exec.h"

namespace rtseg::cpu {

template <typename T>
void prelu_forward(const Exec& exec, T* y, const T* x, const T* weight, int64_t outer, int64_t c,
                   int64_t inner) {
  exec.for_ranges(outer * c, grain_for(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T a = weight[r % c];
      for (int64_t i = r * inner; i < (r + 1) * inner; ++i) {
        const T v = x[i];
        y[i] = v > T(0) ? v : a * v;
      }
    }
  });
}

// The CPU backward needs no scratch.
inline int64_t prelu_workspace_size(const Exec&, int64_t, int64_t, int64_t) { return 0; }

// dx = g where x > 0 else a·g; da[k] = Σ over channel k of g·x where x ≤ 0 (the kink x = 0
// contributes nothing either way), summed in double. dx or dweight may be null (not wanted).
template <typename T>
void prelu_backward(const Exec& exec, T* dx, T* dweight, const T* grad, const T* x, const T* weight,
                    int64_t outer, int64_t c, int64_t inner, double* /*workspace*/) {
  exec.for_ranges(c, grain_for(outer * inner), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
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
  });
}

}  // namespace rtseg::cpu
