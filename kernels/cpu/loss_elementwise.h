// Losses that compare two tensors element by element and average over all elements:
// PIDNet's class-balanced BCE-with-logits and the mean squared error. Sums are accumulated in
// double so that a float map of a million pixels averages without drift. The entry points have
// the signatures of their CUDA twins (kernels/cuda/loss_elementwise.h): the loss is written to a
// 0-dim output and the backward reads the incoming gradient from memory, so neither device
// synchronises with the host.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/exec.h"

namespace rtseg::cpu {

// The CPU kernels need no scratch.
inline int64_t elementwise_loss_workspace_bytes(const Exec&) { return 0; }

// The weights of PIDNet's boundary loss: positives (t = 1) weigh #neg / (#pos + #neg), negatives
// (t = 0) weigh #pos / (#pos + #neg), anything else 0 (the authors index with == 1 and == 0).
struct BalancedWeights {
  double positive = 0.0;
  double negative = 0.0;
};

template <typename T>
BalancedWeights balanced_weights(const T* target, int64_t n) {
  int64_t pos = 0, neg = 0;
  for (int64_t i = 0; i < n; ++i) {
    pos += target[i] == T(1);
    neg += target[i] == T(0);
  }
  BalancedWeights w;
  if (pos + neg > 0) {
    w.positive = static_cast<double>(neg) / static_cast<double>(pos + neg);
    w.negative = static_cast<double>(pos) / static_cast<double>(pos + neg);
  }
  return w;
}

template <typename T>
T balanced_weight_of(T t, const BalancedWeights& w) {
  return t == T(1) ? static_cast<T>(w.positive) : t == T(0) ? static_cast<T>(w.negative) : T(0);
}

// weights[0] = the positives' weight, weights[1] = the negatives'; out[0] =
// mean_i w_i · (max(x,0) − x·t + log(1 + exp(−|x|))): the stable form of
// −w·(t·log σ(x) + (1 − t)·log(1 − σ(x))).
template <typename T>
void balanced_bce_forward(const Exec&, T* out, double* weights, const T* x, const T* t, int64_t n,
                          void* /*workspace*/) {
  const BalancedWeights w = balanced_weights(t, n);
  weights[0] = w.positive;
  weights[1] = w.negative;
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const T wi = balanced_weight_of(t[i], w);
    if (wi == T(0)) continue;
    const T v = x[i];
    total += wi * (std::max(v, T(0)) - v * t[i] + std::log1p(std::exp(-std::abs(v))));
  }
  out[0] = static_cast<T>(total / static_cast<double>(n));
}

// d/dx = w·(σ(x) − t)/n, times the incoming gradient grad_out[0]; weights from the forward.
template <typename T>
void balanced_bce_backward(const Exec&, T* grad, const T* x, const T* t, int64_t n,
                           const double* weights, const T* grad_out) {
  const BalancedWeights w{weights[0], weights[1]};
  const T k = grad_out[0] / static_cast<T>(n);
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T sig = v >= T(0) ? T(1) / (T(1) + std::exp(-v)) : std::exp(v) / (T(1) + std::exp(v));
    grad[i] = k * balanced_weight_of(t[i], w) * (sig - t[i]);
  }
}

// out[0] = mean (p − t)².
template <typename T>
void mse_forward(const Exec&, T* out, const T* p, const T* t, int64_t n, void* /*workspace*/) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    total += d * d;
  }
  out[0] = static_cast<T>(total / static_cast<double>(n));
}

// grad_p = 2(p − t)·grad_out[0]/n and grad_t = −grad_p; either pointer may be null when not
// needed.
template <typename T>
void mse_backward(const Exec&, T* grad_p, T* grad_t, const T* p, const T* t, int64_t n,
                  const T* grad_out) {
  const T k = T(2) * grad_out[0] / static_cast<T>(n);
  for (int64_t i = 0; i < n; ++i) {
    const T d = k * (p[i] - t[i]);
    if (grad_p) grad_p[i] = d;
    if (grad_t) grad_t[i] = -d;
  }
}

}  // namespace rtseg::cpu
