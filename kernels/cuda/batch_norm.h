// CUDA entry points of batch normalisation over a contiguous N×C×S input (S = product of the
// dimensions after C), mirroring kernels/cpu/batch_norm.h step for step so core/ops/norm.cpp runs
// the same sequence on either device. Pointers are device pointers; every call is asynchronous on
// the stream of `exec` and nothing synchronises with the host (the running statistics are updated
// on the device).
//
// Precision: per-channel sums accumulate in double for float and double inputs alike, and the
// variance is two-pass (Σ(x − mean)² around the double mean), exactly as the CPU reference. The
// reductions are deterministic (see kernels/cuda/channel_reduce.cuh).
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

// Doubles of device scratch that batch_norm_stats and batch_norm_backward need for this shape.
int64_t batch_norm_workspace_size(const Exec&, int64_t n, int64_t c, int64_t s);

// Batch mean and biased variance of every channel.
template <typename T>
void batch_norm_stats(const Exec& exec, T* mean, T* var, const T* x, int64_t n, int64_t c,
                      int64_t s, double* workspace);

// running ← (1 − momentum)·running + momentum·batch, the variance unbiased by count/(count − 1).
template <typename T>
void batch_norm_update_running(const Exec& exec, T* running_mean, T* running_var, const T* mean,
                               const T* var, int64_t c, int64_t count, double momentum);

// y = (x − mean)·invstd·γ + β; writes invstd = 1/sqrt(var + eps). weight / bias may be null.
template <typename T>
void batch_norm_forward(const Exec& exec, T* y, T* invstd, const T* x, const T* mean, const T* var,
                        const T* weight, const T* bias, int64_t n, int64_t c, int64_t s,
                        double eps);

// Gradients of batch_norm_forward (formulas in kernels/cpu/batch_norm.h); batch_stats selects
// the training form of dx. dx / dweight / dbias may be null (not wanted); weight may be null.
template <typename T>
void batch_norm_backward(const Exec& exec, T* dx, T* dweight, T* dbias, const T* grad, const T* x,
                         const T* mean, const T* invstd, const T* weight, int64_t n, int64_t c,
                         int64_t s, bool batch_stats, double* workspace);

}  // namespace rtseg::cuda
