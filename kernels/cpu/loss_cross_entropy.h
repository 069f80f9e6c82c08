// Cross-entropy over the class dimension of N×C×S logits (S = H·W, or 1 for N×C) with int64
// targets N×S, per-class weights and an ignored label. The forward works per pixel; the
// reductions (PyTorch's mean/sum, PIDNet's OHEM selection) are done by the caller, which then
// hands the backward one scale per pixel.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/host_device.h"

namespace rtseg::cpu {

struct ClassMapGeometry {
  int64_t n = 0;  // images
  int64_t c = 0;  // classes
  int64_t s = 0;  // positions per image
  RTSEG_HOST_DEVICE int64_t pixels() const { return n * s; }
};

// For every pixel i = n·S + s with target y (not ignore_index):
//   loss[i] = w_y · (logsumexp_c x[n,c,s] − x[n,y,s]),  weight[i] = w_y  (w ≡ 1 without weights)
//   prob[i] = softmax(x[n,:,s])_y (only when prob is non-null: OHEM ranks pixels by it)
// Ignored pixels get loss 0, weight 0 and prob 0. Targets must already be validated.
template <typename T>
void cross_entropy_pixels(T* loss, T* weight, T* prob, const T* logits, const int64_t* target,
                          const T* class_weights, const ClassMapGeometry& g, int64_t ignore_index) {
  for (int64_t n = 0; n < g.n; ++n) {
    const T* xn = logits + n * g.c * g.s;
    for (int64_t s = 0; s < g.s; ++s) {
      const int64_t i = n * g.s + s;
      const int64_t y = target[i];
      if (y == ignore_index) {
        loss[i] = weight[i] = T(0);
        if (prob) prob[i] = T(0);
        continue;
      }
      T m = xn[s];
      for (int64_t c = 1; c < g.c; ++c) m = std::max(m, xn[c * g.s + s]);
      T total = 0;
      for (int64_t c = 0; c < g.c; ++c) total += std::exp(xn[c * g.s + s] - m);
      const T x_y = xn[y * g.s + s];
      const T w = class_weights ? class_weights[y] : T(1);
      // log Σ − (x_y − m), not (m + log Σ) − x_y, which would round away digits for large m.
      loss[i] = w * (std::log(total) - (x_y - m));
      weight[i] = w;
      // Same arithmetic as softmax_forward, so OHEM's ranking sees the probabilities a softmax
      // would return (ties against the threshold are decided on these exact values).
      if (prob) prob[i] = std::exp(x_y - m) / total;
    }
  }
}

// grad[n,c,s] = scale(i) · w_y · (softmax_c − [c = y]) for pixel i = n·S + s; 0 at ignored
// pixels. scale(i) is the derivative of the reduced loss with respect to loss[i] (the mean's
// 1/Σw times the incoming gradient, the per-pixel gradient for Reduction::None, 0 for pixels
// OHEM dropped).
template <typename T, typename Scale>
void cross_entropy_backward(T* grad, const T* logits, const int64_t* target, const T* class_weights,
                            const ClassMapGeometry& g, int64_t ignore_index, Scale scale) {
  for (int64_t n = 0; n < g.n; ++n) {
    const T* xn = logits + n * g.c * g.s;
    T* gn = grad + n * g.c * g.s;
    for (int64_t s = 0; s < g.s; ++s) {
      const int64_t i = n * g.s + s;
      const int64_t y = target[i];
      const T k = y == ignore_index
                      ? T(0)
                      : static_cast<T>(scale(i)) * (class_weights ? class_weights[y] : T(1));
      if (k == T(0)) {
        for (int64_t c = 0; c < g.c; ++c) gn[c * g.s + s] = T(0);
        continue;
      }
      T m = xn[s];
      for (int64_t c = 1; c < g.c; ++c) m = std::max(m, xn[c * g.s + s]);
      T total = 0;
      for (int64_t c = 0; c < g.c; ++c) total += std::exp(xn[c * g.s + s] - m);
      for (int64_t c = 0; c < g.c; ++c) {
        const T p = std::exp(xn[c * g.s + s] - m) / total;
        gn[c * g.s + s] = k * (c == y ? p - T(1) : p);
      }
    }
  }
}

// PIDNet's OHEM threshold: the target-class probabilities of the valid pixels sorted
// ascending, the value at index min(min_kept, count − 1), raised to `thresh`. Pixels whose
// probability is strictly below the result are kept. `probs` must be non-empty.
template <typename T>
T ohem_threshold(std::vector<T> probs, int64_t min_kept, T thresh) {
  const size_t k = std::min(static_cast<size_t>(min_kept), probs.size() - 1);
  // Only one order statistic is needed, not the authors' full sort.
  std::nth_element(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(k), probs.end());
  return std::max(probs[k], thresh);
}

}  // namespace rtseg::cpu
