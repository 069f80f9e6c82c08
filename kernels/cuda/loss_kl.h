// CUDA entry points of ICFRNet's complexity distillation term kl_div_softmax (see
// core/ops/loss.h and kernels/cpu/loss_kl.h). Device pointers; asynchronous on exec's stream. Per
// image, the tempered softmax statistics are deterministic multi-block reductions in double.
#pragma once

#include <cstdint>

#include "kernels/cpu/loss_kl.h"
#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

// Most images per call (one grid row of the reductions per image).
constexpr int64_t kKlMaxImages = 65535;

// Bytes of `workspace` that kl_softmax_forward needs.
int64_t kl_softmax_workspace_bytes(const Exec&, const cpu::ImageMapGeometry& g);

// stats (4 per image): max and log Σ exp((v − max)/T) of the student, then of the teacher.
// out[0] = factor · Σ_n Σ_i p_t·(log p_t − log p_s) (terms with p_t = 0 count 0).
template <typename T>
void kl_softmax_forward(const Exec& exec, T* out, double* stats, const T* student, const T* teacher,
                        const cpu::ImageMapGeometry& g, double temperature, double factor,
                        void* workspace);

// grad = (grad_out[0]·factor / T)·(p_s − p_t), with the forward's stats.
template <typename T>
void kl_softmax_backward(const Exec& exec, T* grad, const T* student, const T* teacher,
                         const cpu::ImageMapGeometry& g, double temperature, double factor,
                         const double* stats, const T* grad_out);

}  // namespace rtseg::cuda
