// ICFRNet's complexity distillation: KL(p_t ‖ p_s) between softmaxes taken over all M positions
// of each of N images at temperature T. Per image the softmax sums run in double (M is a whole
// full-resolution map, a million terms in float would drift). The entry points have the
// signatures of their CUDA twins (kernels/cuda/loss_kl.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/exec.h"

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

// The CPU kernels need no scratch.
inline int64_t kl_softmax_workspace_bytes(const Exec&, const ImageMapGeometry&) { return 0; }

// stats (4 per image): max and log Σ exp((v − max)/T) of the student, then of the teacher.
// out[0] = factor · Σ_n Σ_i p_t·(log p_t − log p_s). Terms with p_t = 0 (underflow) contribute
// 0, as PyTorch's kl_div (xlogy) does.
template <typename T>
void kl_softmax_forward(const Exec&, T* out, double* stats, const T* student, const T* teacher,
                        const ImageMapGeometry& g, double temp, double factor,
                        void* /*workspace*/) {
  double total = 0.0;
  for (int64_t n = 0; n < g.n; ++n) {
    const T* s = student + n * g.m;
    const T* t = teacher + n * g.m;
    double* st = stats + 4 * n;
    tempered_logsumexp(s, g.m, temp, st[0], st[1]);
    tempered_logsumexp(t, g.m, temp, st[2], st[3]);
    for (int64_t i = 0; i < g.m; ++i) {
      const double log_pt = (static_cast<double>(t[i]) - st[2]) / temp - st[3];
      const double log_ps = (static_cast<double>(s[i]) - st[0]) / temp - st[1];
      const double pt = std::exp(log_pt);
      if (pt > 0.0) total += pt * (log_pt - log_ps);
    }
  }
  out[0] = static_cast<T>(factor * total);
}

// d/ds_i of Σ p_t·(log p_t − log p_s) is (p_s,i − p_t,i)/T: grad = (grad_out[0]·factor / T)·
// (p_s − p_t), with the forward's stats.
template <typename T>
void kl_softmax_backward(const Exec& exec, T* grad, const T* student, const T* teacher,
                         const ImageMapGeometry& g, double temp, double factor, const double* stats,
                         const T* grad_out) {
  const double scale = static_cast<double>(grad_out[0]) * factor / temp;
  exec.for_ranges(g.n, grain_for(g.m), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const T* s = student + n * g.m;
      const T* t = teacher + n * g.m;
      const double* st = stats + 4 * n;
      for (int64_t i = 0; i < g.m; ++i) {
        const double ps = std::exp((static_cast<double>(s[i]) - st[0]) / temp - st[1]);
        const double pt = std::exp((static_cast<double>(t[i]) - st[2]) / temp - st[3]);
        grad[n * g.m + i] = static_cast<T>(scale * (ps - pt));
      }
    }
  });
}

}  // namespace rtseg::cpu
