// The arithmetic of one softmax row, shared by the CPU reference (kernels/cpu/softmax.h) and the
// CUDA kernel that gives each row a thread (kernels/cuda/softmax.cu): the row's elements are
// r[k·stride], k < dim. The maximum is subtracted before exponentiating, so large logits never
// overflow; both sides loop in the same order, so only exp/log rounding can differ.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace rtseg::softmax_row {

// std::max's rule (fmax would treat a NaN differently).
template <typename T>
RTSEG_HOST_DEVICE inline T larger(T a, T b) {
  return a < b ? b : a;
}

// y = softmax(x) (log_form false) or log_softmax(x) (log_form true).
template <typename T>
RTSEG_HOST_DEVICE inline void forward(T* y, const T* x, int64_t dim, int64_t stride,
                                      bool log_form) {
  T m = x[0];
  for (int64_t k = 1; k < dim; ++k) m = larger(m, x[k * stride]);
  T total = 0;
  for (int64_t k = 0; k < dim; ++k) total += RTSEG_MATH(exp)(x[k * stride] - m);
  if (log_form) {
    // (x − m) − log Σ rather than x − (m + log Σ): the latter rounds m + log Σ to the precision
    // of m first and loses digits when |m| is large.
    const T log_total = RTSEG_MATH(log)(total);
    for (int64_t k = 0; k < dim; ++k) y[k * stride] = (x[k * stride] - m) - log_total;
  } else {
    for (int64_t k = 0; k < dim; ++k) y[k * stride] = RTSEG_MATH(exp)(x[k * stride] - m) / total;
  }
}

// Given the forward output y and the output gradient gy:
//   softmax:     gx = y ⊙ (gy − Σ gy⊙y)
//   log_softmax: gx = gy − exp(y) · Σ gy
template <typename T>
RTSEG_HOST_DEVICE inline void backward(T* gx, const T* y, const T* gy, int64_t dim, int64_t stride,
                                       bool log_form) {
  T dot = 0;
  if (log_form) {
    for (int64_t k = 0; k < dim; ++k) dot += gy[k * stride];
    for (int64_t k = 0; k < dim; ++k)
      gx[k * stride] = gy[k * stride] - RTSEG_MATH(exp)(y[k * stride]) * dot;
  } else {
    for (int64_t k = 0; k < dim; ++k) dot += gy[k * stride] * y[k * stride];
    for (int64_t k = 0; k < dim; ++k) gx[k * stride] = y[k * stride] * (gy[k * stride] - dot);
  }
}

}  // namespace rtseg::softmax_row
