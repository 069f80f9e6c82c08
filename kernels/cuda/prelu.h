// CUDA entry points of PReLU over a contiguous input viewed as outer × C × inner (one slope per
// channel; a single shared slope is C = 1), mirroring kernels/cpu/prelu.h. Pointers are device
// pointers; every call is asynchronous on the stream of `exec`.
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

template <typename T>
void prelu_forward(const Exec& exec, T* y, const T* x, const T* weight, int64_t outer, int64_t c,
                   int64_t inner);

// Doubles of device scratch that prelu_backward needs for the slope gradient of this shape.
int64_t prelu_workspace_size(const Exec&, int64_t outer, int64_t c, int64_t inner);

// dx = g where x > 0 else a·g; dweight[k] = Σ g·x over channel k where x ≤ 0 (a deterministic
// reduction in double). dx or dweight may be null (not wanted).
template <typename T>
void prelu_backward(const Exec& exec, T* dx, T* dweight, const T* grad, const T* x, const T* weight,
                    int64_t outer, int64_t c, int64_t inner, double* workspace);

}  // namespace rtseg::cuda
