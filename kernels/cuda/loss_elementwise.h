// CUDA entry points of the balanced BCE-with-logits and MSE losses (see core/ops/loss.h and
// kernels/cpu/loss_elementwise.h). Device pointers over n contiguous elements; asynchronous on
// exec's stream; reduced losses (0-dim outputs) and the values their backward needs stay on the
// device. Reductions are deterministic (fixed-order block reductions, double accumulators).
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

// Bytes of `workspace` that the forward passes below need.
int64_t elementwise_loss_workspace_bytes(const Exec&);

// Counts positives (t = 1) and negatives (t = 0) on the device and writes
// weights[0] = #neg / (#pos + #neg) (for positives), weights[1] = #pos / (#pos + #neg) (both 0
// without any 0/1 target) and out[0] = mean_i w(t_i)·bce(x_i, t_i).
template <typename T>
void balanced_bce_forward(const Exec& exec, T* out, double* weights, const T* x, const T* t,
                          int64_t n, void* workspace);

// grad = grad_out[0]/n · w(t)·(σ(x) − t), weights as written by the forward.
template <typename T>
void balanced_bce_backward(const Exec& exec, T* grad, const T* x, const T* t, int64_t n,
                           const double* weights, const T* grad_out);

// out[0] = mean (p − t)².
template <typename T>
void mse_forward(const Exec& exec, T* out, const T* p, const T* t, int64_t n, void* workspace);

// grad_p = 2(p − t)·grad_out[0]/n, grad_t = −grad_p; either may be null.
template <typename T>
void mse_backward(const Exec& exec, T* grad_p, T* grad_t, const T* p, const T* t, int64_t n,
                  const T* grad_out);

}  // namespace rtseg::cuda
