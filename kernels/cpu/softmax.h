// Softmax and log-softmax along one dimension of a contiguous tensor viewed as
// outer × dim × inner (elements along the dimension are `inner` apart), forward and backward.
// The maximum is subtracted before exponentiating, so large logits never overflow.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace rtseg::cpu {

struct SoftmaxGeometry {
  int64_t outer = 0;
  int64_t dim = 0;
  int64_t inner = 0;
};

// Calls f(base, stride) for every softmax row: its elements are base + k·stride, k < dim.
template <typename F>
void for_each_softmax_row(const SoftmaxGeometry& g, F f) {
  if (g.dim == 0) return;  // empty rows: nothing to normalise
  for (int64_t o = 0; o < g.outer; ++o) {
    for (int64_t i = 0; i < g.inner; ++i) f(o * g.dim * g.inner + i, g.inner);
  }
}

// Writes softmax(x) (log_form false) or log_softmax(x) (log_form true) into y.
template <typename T>
void softmax_forward(T* y, const T* x, const SoftmaxGeometry& g, bool log_form) {
  for_each_softmax_row(g, [&](int64_t base, int64_t stride) {
    const T* xr = x + base;
    T* yr = y + base;
    T m = xr[0];
    for (int64_t k = 1; k < g.dim; ++k) m = std::max(m, xr[k * stride]);
    T total = 0;
    for (int64_t k = 0; k < g.dim; ++k) total += std::exp(xr[k * stride] - m);
    if (log_form) {
      // (x − m) − log Σ rather than x − (m + log Σ): the latter rounds m + log Σ to the
      // precision of m first and loses digits when |m| is large.
      const T log_total = std::log(total);
      for (int64_t k = 0; k < g.dim; ++k) yr[k * stride] = (xr[k * stride] - m) - log_total;
    } else {
      for (int64_t k = 0; k < g.dim; ++k) yr[k * stride] = std::exp(xr[k * stride] - m) / total;
    }
  });
}

// Given the forward output y and the output gradient gy:
//   softmax:     gx = y ⊙ (gy − Σ gy⊙y)
//   log_softmax: gx = gy − exp(y) · Σ gy
template <typename T>
void softmax_backward(T* gx, const T* y, const T* gy, const SoftmaxGeometry& g, bool log_form) {
  for_each_softmax_row(g, [&](int64_t base, int64_t stride) {
    const T* yr = y + base;
    const T* gr = gy + base;
    T* out = gx + base;
    T dot = 0;
    if (log_form) {
      for (int64_t k = 0; k < g.dim; ++k) dot += gr[k * stride];
      for (int64_t k = 0; k < g.dim; ++k)
        out[k * stride] = gr[k * stride] - std::exp(yr[k * stride]) * dot;
    } else {
      for (int64_t k = 0; k < g.dim; ++k) dot += gr[k * stride] * yr[k * stride];
      for (int64_t k = 0; k < g.dim; ++k) out[k * stride] = yr[k * stride] * (gr[k * stride] - dot);
    }
  });
}

}  // namespace rtseg::cpu
