// The SGD step on the CPU: weight decay, momentum (Nesterov or not) and the update in one pass
// over a parameter (kernels/sgd_update.h, the formula the CUDA kernel runs too); the signature of
// its CUDA twin (kernels/cuda/sgd.h). Elements are independent, so the context's ranges split
// them freely.
#pragma once

#include <cstdint>

#include "kernels/cpu/exec.h"
#include "kernels/sgd_update.h"

namespace rtseg::cpu {

template <typename T>
void sgd_step(const Exec& exec, T* param, const T* grad, T* momentum_buffer, int64_t n,
              bool first_step, const SgdHyper& hyper) {
  exec.for_ranges(n, grain_for(4), [&](int64_t i0, int64_t i1) {
    T none = 0;
    for (int64_t i = i0; i < i1; ++i) {
      sgd_update(param[i], grad[i], momentum_buffer ? momentum_buffer[i] : none, first_step, hyper);
    }
  });
}

}  // namespace rtseg::cpu
