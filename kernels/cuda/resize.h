// CUDA entry points of bilinear and nearest resizing of N·C planes (see core/ops/resize.h for the
// semantics). Pointers are device pointers to contiguous data; every call is asynchronous on
// exec's stream and overwrites its whole output (the backward needs no zeroed gradient). The sample
// positions, weights and per-element sums are kernels/cpu/resize.h's host-device functions, with
// the same roundings as the CPU reference; the backward passes are gathers (one thread per input
// element, its contributing outputs found from the monotone inverse of the tap mapping, summed
// in the CPU scatter's order): no atomics, deterministic, and equal to the CPU results.
#pragma once

#include "kernels/cpu/resize.h"
#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

template <typename T>
void bilinear_forward(const Exec& exec, T* out, const T* in, const cpu::ResizeGeometry& g,
                      bool align_corners);
template <typename T>
void bilinear_backward(const Exec& exec, T* grad_in, const T* grad_out,
                       const cpu::ResizeGeometry& g, bool align_corners);

template <typename T>
void nearest_forward(const Exec& exec, T* out, const T* in, const cpu::ResizeGeometry& g);
template <typename T>
void nearest_backward(const Exec& exec, T* grad_in, const T* grad_out,
                      const cpu::ResizeGeometry& g);

}  // namespace rtseg::cuda
