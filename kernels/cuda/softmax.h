// CUDA entry points of softmax and log-softmax along one dimension of a contiguous tensor viewed
// as outer × dim × inner (see kernels/cpu/softmax.h for the formulas). Device pointers; every
// call is asynchronous on the stream of `exec` and overwrites its whole output.
#pragma once

#include "kernels/cpu/softmax.h"
#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

template <typename T>
void softmax_forward(const Exec& exec, T* y, const T* x, const cpu::SoftmaxGeometry& g,
                     bool log_form);

template <typename T>
void softmax_backward(const Exec& exec, T* gx, const T* y, const T* gy,
                      const cpu::SoftmaxGeometry& g, bool log_form);

}  // namespace rtseg::cuda
