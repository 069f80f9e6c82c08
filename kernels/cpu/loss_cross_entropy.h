// Cross-entropy over the class dimension of N×C×S logits (S = H·W, or 1 for N×C) with int64
// targets N×S, per-class weights and an ignored label. The per-pixel kernels come first; the
// entry points at the end (per-pixel map, mean/sum, PIDNet's OHEM, backward) have the signatures
// of their CUDA twins (kernels/cuda/loss_cross_entropy.h): reduced losses, the OHEM selection
// and the backward's scale factors are written to memory, where the backward reads them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/exec.h"
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

// The derivative of the reduced loss with respect to loss[i]: grad_out[i] (per_pixel:
// Reduction::None), else grad_out[0]·scale[0]; with a selection (key and threshold non-null),
// 0 for pixels whose key is not below *threshold (OHEM's dropped pixels). Read on the device on
// CUDA, so every pointer is of the loss's device.
template <typename T>
struct CrossEntropyGradScale {
  const T* grad_out = nullptr;
  bool per_pixel = false;
  const double* scale = nullptr;
  const T* key = nullptr;
  const T* threshold = nullptr;

  RTSEG_HOST_DEVICE T at(int64_t i) const {
    if (key != nullptr && !(key[i] < threshold[0])) return T(0);
    return per_pixel ? grad_out[i] : static_cast<T>(static_cast<double>(grad_out[0]) * scale[0]);
  }
};

namespace detail {

// The reductions over per-pixel results from pixels(loss, weight, prob) — the reference's kernel
// or the fast backend's, which give the same bits per pixel — summed in double in pixel order.
template <typename T, typename Pixels>
void reduce_pixels(T* out, double* scale, int64_t pixels_n, bool mean, Pixels pixels) {
  const size_t n = static_cast<size_t>(pixels_n);
  std::vector<T> loss(n), weight(n);
  pixels(loss.data(), weight.data(), static_cast<T*>(nullptr));
  double loss_sum = 0.0, weight_sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    loss_sum += loss[i];
    weight_sum += weight[i];
  }
  // No kept pixel: 0 rather than PyTorch's 0/0 = NaN, so a crop of pure void trains on.
  const double k = !mean ? 1.0 : weight_sum > 0.0 ? 1.0 / weight_sum : 0.0;
  out[0] = static_cast<T>(loss_sum * k);
  scale[0] = k;
}

template <typename T, typename Pixels>
void ohem_pixels(T* out, T* key, T* threshold, double* scale, const int64_t* target,
                 int64_t pixels_n, int64_t ignore_index, int64_t min_kept, T thresh,
                 Pixels pixels) {
  const size_t n = static_cast<size_t>(pixels_n);
  std::vector<T> loss(n), weight(n);
  pixels(loss.data(), weight.data(), key);
  std::vector<T> valid;
  valid.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (target[i] == ignore_index) {
      key[i] = std::numeric_limits<T>::infinity();  // never below a threshold
    } else {
      valid.push_back(key[i]);
    }
  }
  // No labelled pixel: nothing is kept and the loss is 0. Compared in the logits' type, as
  // PyTorch compares a float32 tensor with the Python float.
  threshold[0] = valid.empty() ? -std::numeric_limits<T>::infinity()
                               : ohem_threshold(std::move(valid), min_kept, thresh);
  int64_t kept = 0;
  double loss_sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (key[i] < threshold[0]) {
      ++kept;
      loss_sum += loss[i];
    }
  }
  // Plain mean over the kept pixels (not divided by their class weights, as the authors do).
  scale[0] = kept > 0 ? 1.0 / static_cast<double>(kept) : 0.0;
  out[0] = static_cast<T>(loss_sum * scale[0]);
}

}  // namespace detail

// Reduction::None: loss[i] = w_y·nll at pixel i (0 where ignored).
template <typename T>
void cross_entropy_map(const Exec&, T* loss, const T* logits, const int64_t* target,
                       const T* class_weights, const ClassMapGeometry& g, int64_t ignore_index) {
  std::vector<T> weight(static_cast<size_t>(g.pixels()));
  cross_entropy_pixels(loss, weight.data(), static_cast<T*>(nullptr), logits, target, class_weights,
                       g, ignore_index);
}

// The CPU reductions need no scratch.
inline int64_t cross_entropy_reduce_workspace_bytes(const Exec&) { return 0; }

// Sum (mean false): out[0] = Σ w_y·nll, scale[0] = 1. Mean: out[0] = Σ w_y·nll / Σ w_y and
// scale[0] = 1 / Σ w_y (both 0 when Σ w_y = 0). scale[0] is d out / d loss_i.
template <typename T>
void cross_entropy_reduce(const Exec&, T* out, double* scale, const T* logits,
                          const int64_t* target, const T* class_weights, const ClassMapGeometry& g,
                          int64_t ignore_index, bool mean, void* /*workspace*/) {
  detail::reduce_pixels(out, scale, g.pixels(), mean, [&](T* loss, T* weight, T* prob) {
    cross_entropy_pixels(loss, weight, prob, logits, target, class_weights, g, ignore_index);
  });
}

// The type argument only selects T.
template <typename T>
int64_t ohem_workspace_bytes(const Exec&, const ClassMapGeometry&, T) {
  return 0;
}

// OHEM: key[i] = softmax probability of the target class (+inf at ignored pixels);
// threshold[0] = max(the key of rank min(min_kept, count − 1) among the count labelled pixels,
// thresh), −inf when there are none (nothing kept); out[0] = mean of w_y·nll over the pixels
// with key < threshold (0 when none); scale[0] = 1 / kept (or 0).
template <typename T>
void ohem_cross_entropy(const Exec&, T* out, T* key, T* threshold, double* scale, const T* logits,
                        const int64_t* target, const T* class_weights, const ClassMapGeometry& g,
                        int64_t ignore_index, int64_t min_kept, T thresh, void* /*workspace*/,
                        int64_t /*workspace_bytes*/) {
  detail::ohem_pixels(out, key, threshold, scale, target, g.pixels(), ignore_index, min_kept,
                      thresh, [&](T* loss, T* weight, T* prob) {
                        cross_entropy_pixels(loss, weight, prob, logits, target, class_weights, g,
                                             ignore_index);
                      });
}

// grad[n,c,s] = dL/dloss_i · w_y · (softmax_c − [c = y]); 0 at ignored and dropped pixels.
template <typename T>
void cross_entropy_backward(const Exec&, T* grad, const T* logits, const int64_t* target,
                            const T* class_weights, const ClassMapGeometry& g, int64_t ignore_index,
                            const CrossEntropyGradScale<T>& scale) {
  cross_entropy_backward(grad, logits, target, class_weights, g, ignore_index,
                         [&](int64_t i) { return scale.at(i); });
}

}  // namespace rtseg::cpu
