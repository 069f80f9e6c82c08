// Reference batch-normalisation kernels over a contiguous N×C×S input (S = product of the
// dimensions after C; 1 for N×C). Per-channel sums accumulate in double and the variance is
// two-pass (Σ(x − mean)²), so float inputs with a large mean keep their precision. The entry
// points have the signatures of their CUDA twins (kernels/cuda/batch_norm.h) and of the fast
// backend's float32 ones (kernels/cpu_fast/batch_norm.h); channels are independent, so the
// context's ranges split them without changing a result.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/exec.h"

namespace rtseg::cpu {

// The CPU kernels need no scratch.
inline int64_t batch_norm_workspace_size(const Exec&, int64_t, int64_t, int64_t) { return 0; }

// Batch mean and *biased* variance (divide by n = N·S) of every channel.
template <typename T>
void batch_norm_stats(const Exec& exec, T* mean, T* var, const T* x, int64_t n, int64_t c,
                      int64_t s, double* /*workspace*/) {
  const double count = static_cast<double>(n * s);
  exec.for_ranges(c, grain_for(n * s), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      double acc = 0.0;
      for (int64_t b = 0; b < n; ++b) {
        const T* row = x + (b * c + k) * s;
        for (int64_t i = 0; i < s; ++i) acc += row[i];
      }
      const double m = acc / count;
      double sq = 0.0;
      for (int64_t b = 0; b < n; ++b) {
        const T* row = x + (b * c + k) * s;
        for (int64_t i = 0; i < s; ++i) sq += (row[i] - m) * (row[i] - m);
      }
      mean[k] = static_cast<T>(m);
      var[k] = static_cast<T>(sq / count);
    }
  });
}

// running ← (1 − momentum)·running + momentum·batch, with the unbiased variance (·count/(count−1))
// going into running_var, as PyTorch. count > 1 is the caller's precondition.
template <typename T>
void batch_norm_update_running(const Exec&, T* running_mean, T* running_var, const T* mean,
                               const T* var, int64_t c, int64_t count, double momentum) {
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  for (int64_t k = 0; k < c; ++k) {
    running_mean[k] = static_cast<T>((1.0 - momentum) * running_mean[k] + momentum * mean[k]);
    running_var[k] = static_cast<T>((1.0 - momentum) * running_var[k] + momentum * unbias * var[k]);
  }
}

// y = (x − mean)·invstd·γ + β with invstd = 1/sqrt(var + eps), written to `invstd` for the
// backward. weight / bias may be null (γ = 1, β = 0).
template <typename T>
void batch_norm_forward(const Exec& exec, T* y, T* invstd, const T* x, const T* mean, const T* var,
                        const T* weight, const T* bias, int64_t n, int64_t c, int64_t s,
                        double eps) {
  exec.for_ranges(c, grain_for(n * s), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      invstd[k] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(var[k]) + eps));
    }
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t k = k0; k < k1; ++k) {
        const T scale = invstd[k] * (weight ? weight[k] : T(1));
        const T shift = bias ? bias[k] : T(0);
        const T m = mean[k];
        const T* xr = x + (b * c + k) * s;
        T* yr = y + (b * c + k) * s;
        for (int64_t i = 0; i < s; ++i) yr[i] = (xr[i] - m) * scale + shift;
      }
    }
  });
}

// Gradients of batch_norm_forward. With batch_stats (training), mean and invstd are functions of
// x, and with x̂ = (x − mean)·invstd, n = N·S:
//   dx = γ·invstd/n · (n·g − Σg − x̂·Σ(g·x̂))
// otherwise (eval) they are constants and dx = γ·invstd·g. In both modes dγ = Σ g·x̂ and
// dβ = Σ g. Any of dx / dweight / dbias may be null (not wanted); weight may be null (γ = 1).
template <typename T>
void batch_norm_backward(const Exec& exec, T* dx, T* dweight, T* dbias, const T* grad, const T* x,
                         const T* mean, const T* invstd, const T* weight, int64_t n, int64_t c,
                         int64_t s, bool batch_stats, double* /*workspace*/) {
  const double count = static_cast<double>(n * s);
  exec.for_ranges(c, grain_for(n * s), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const double m = mean[k], is = invstd[k];
      double sum_g = 0.0, sum_gx = 0.0;  // Σg and Σ g·x̂
      for (int64_t b = 0; b < n; ++b) {
        const T* gr = grad + (b * c + k) * s;
        const T* xr = x + (b * c + k) * s;
        for (int64_t i = 0; i < s; ++i) {
          sum_g += gr[i];
          sum_gx += gr[i] * ((xr[i] - m) * is);
        }
      }
      if (dweight) dweight[k] = static_cast<T>(sum_gx);
      if (dbias) dbias[k] = static_cast<T>(sum_g);
      if (!dx) continue;
      const double gamma = weight ? static_cast<double>(weight[k]) : 1.0;
      for (int64_t b = 0; b < n; ++b) {
        const T* gr = grad + (b * c + k) * s;
        const T* xr = x + (b * c + k) * s;
        T* dr = dx + (b * c + k) * s;
        for (int64_t i = 0; i < s; ++i) {
          if (batch_stats) {
            const double xhat = (xr[i] - m) * is;
            dr[i] = static_cast<T>(gamma * is / count * (count * gr[i] - sum_g - xhat * sum_gx));
          } else {
            dr[i] = static_cast<T>(gamma * is * gr[i]);
          }
        }
      }
    }
  });
}

}  // namespace rtseg::cpu
