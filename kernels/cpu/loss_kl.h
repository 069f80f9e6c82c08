// ICFRNet's complexity distillation: KL(p_t ‖ p_s) between softmaxes taken over all M positions
// of each of N images at temperature T. Per image the softmax sums run in double (M is a whole
// full-resolution map, a million terms in float would drift).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace rtseg::cpu {

struct ImageMapGeometry {
  int64_t n = 0;  // images
  int64_t m = 0;  // positions per image
};

// max and log Σ exp((v − max)/temp) of one image, i.e. log_softmax(v/temp)_i = (v_i − max)/temp −
// lse.
template <typename T>
void tempered_logsumexp(const T* v, int64_t m, double temp, double& max_out, double& lse_out) {
  double mx = static_cast<double>(v[0]);
  for (int64_t i = 1; i < m; ++i) mx = std::max(mx, static_cast<double>(v[i]));
  double total = 0.0;
  for (int64_t i = 0; i < m; ++i) total += std::exp((static_cast<double>(v[i]) - mx) / temp);
  max_out = mx;
  lse_out = std::log(total);
}

// Σ_n Σ_i p_t·(log p_t − log p_s), not yet scaled by T²/N. Terms with p_t = 0 (underflow)
// contribute 0, as PyTorch's kl_div (xlogy) does.
template <typename T>
double kl_softmax_forward(const T* student, const T* teacher, const ImageMapGeometry& g,
                          double temp) {
  double total = 0.0;
  for (int64_t n = 0; n < g.n; ++n) {
    const T* s = student + n * g.m;
    const T* t = teacher + n * g.m;
    double ms, ls, mt, lt;
    tempered_logsumexp(s, g.m, temp, ms, ls);
    tempered_logsumexp(t, g.m, temp, mt, lt);
    for (int64_t i = 0; i < g.m; ++i) {
      const double log_pt = (static_cast<double>(t[i]) - mt) / temp - lt;
      const double log_ps = (static_cast<double>(s[i]) - ms) / temp - ls;
      const double pt = std::exp(log_pt);
      if (pt > 0.0) total += pt * (log_pt - log_ps);
    }
  }
  return total;
}

// d/ds_i of Σ p_t·(log p_t − log p_s) is (p_s,i − p_t,i)/T; grad = scale·(p_s − p_t) where the
// caller folds T²/N, 1/T and the incoming gradient into `scale`.
template <typename T>
void kl_softmax_backward(T* grad, const T* student, const T* teacher, const ImageMapGeometry& g,
                         double temp, double scale) {
  for (int64_t n = 0; n < g.n; ++n) {
    const T* s = student + n * g.m;
    const T* t = teacher + n * g.m;
    double ms, ls, mt, lt;
    tempered_logsumexp(s, g.m, temp, ms, ls);
    tempered_logsumexp(t, g.m, temp, mt, lt);
    for (int64_t i = 0; i < g.m; ++i) {
      const double ps = std::exp((static_cast<double>(s[i]) - ms) / temp - ls);
      const double pt = std::exp((static_cast<double>(t[i]) - mt) / temp - lt);
      grad[n * g.m + i] = static_cast<T>(scale * (ps - pt));
    }
  }
}

}  // namespace rtseg::cpu
