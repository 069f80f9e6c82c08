// Softmax and log-softmax along one dimension of a contiguous tensor viewed as
// outer × dim × inner (elements along the dimension are `inner` apart), forward and backward.
// The row arithmetic is kernels/softmax_row.h, which the CUDA kernels run too; the entry points
// have the signatures of their CUDA twins (kernels/cuda/softmax.h) and split the outer index
// across the context's ranges (rows are independent: the same values for any split).
#pragma once

#include <cstdint>

#include "kernels/cpu/exec.h"
#include "kernels/softmax_row.h"

namespace rtseg::cpu {

struct SoftmaxGeometry {
  int64_t outer = 0;
  int64_t dim = 0;
  int64_t inner = 0;
};

// Calls f(base, stride) for every softmax row: its elements are base + k·stride, k < dim.
template <typename F>
void for_each_softmax_row(const Exec& exec, const SoftmaxGeometry& g, F f) {
  if (g.dim == 0) return;  // empty rows: nothing to normalise
  exec.for_ranges(g.outer, grain_for(g.dim * g.inner), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t i = 0; i < g.inner; ++i) f(o * g.dim * g.inner + i, g.inner);
    }
  });
}

// Writes softmax(x) (log_form false) or log_softmax(x) (log_form true) into y.
template <typename T>
void softmax_forward(const Exec& exec, T* y, const T* x, const SoftmaxGeometry& g, bool log_form) {
  for_each_softmax_row(exec, g, [&](int64_t base, int64_t stride) {
    softmax_row::forward(y + base, x + base, g.dim, stride, log_form);
  });
}

// gx from the forward output y and the output gradient gy (formulas in kernels/softmax_row.h).
template <typename T>
void softmax_backward(const Exec& exec, T* gx, const T* y, const T* gy, const SoftmaxGeometry& g,
                      bool log_form) {
  for_each_softmax_row(exec, g, [&](int64_t base, int64_t stride) {
    softmax_row::backward(gx + base, y + base, gy + base, g.dim, stride, log_form);
  });
}

}  // namespace rtseg::cpu
