// The fused SGD step on the GPU: weight decay, momentum (Nesterov or not) and the update in one
// pass over each parameter (see kernels/sgd_update.h for the formula).
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"
#include "kernels/sgd_update.h"

namespace rtseg::cuda {

template <typename T>
void sgd_step(const Exec& exec, T* param, const T* grad, T* momentum_buffer, int64_t n,
              bool first_step, const SgdHyper& hyper);

}  // namespace rtseg::cuda
