#include "kernels/cpu_fast/batch_norm.h"

#include <cmath>

#include "kernels/cpu_fast/isa.h"

namespace rtseg::cpu_fast {

namespace {

// Σ f(i) over [0, s) in double vector lanes (f gives doubles): the sums of the backward cancel
// (dγ is a small difference of many terms), so they are as accurate as the reference's, at the
// cost of conversions a memory-bound loop hides.
template <typename F>
[[gnu::always_inline]] inline double lane_sum(int64_t s, F f) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < s; ++i) acc += f(i);
  return acc;
}

}  // namespace

RTSEG_CPU_CLONES
void batch_norm_stats_channels(float* mean, float* var, const float* x, int64_t n, int64_t c,
                               int64_t s, int64_t k0, int64_t k1) {
  const double count = static_cast<double>(n * s);
  for (int64_t k = k0; k < k1; ++k) {
    // Σ(x − pivot) with the channel's first value as the pivot: float chunks of values near 0
    // keep their precision when the channel's mean is large.
    const float pivot = x[k * s];
    double sum = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* __restrict row = x + (b * c + k) * s;
      sum += lane_sum(s, [&](int64_t i) { return static_cast<double>(row[i] - pivot); });
    }
    const double dm = static_cast<double>(pivot) + sum / count;
    const float m = static_cast<float>(dm);
    double sq = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* __restrict row = x + (b * c + k) * s;
      sq += lane_sum(s, [&](int64_t i) {
        const double d = static_cast<double>(row[i]) - dm;
        return d * d;
      });
    }
    mean[k] = m;
    var[k] = static_cast<float>(sq / count);
  }
}

RTSEG_CPU_CLONES
void batch_norm_forward_channels(float* y, float* invstd, const float* x, const float* mean,
                                 const float* var, const float* weight, const float* bias,
                                 int64_t n, int64_t c, int64_t s, double eps, int64_t k0,
                                 int64_t k1) {
  for (int64_t k = k0; k < k1; ++k) {
    invstd[k] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[k]) + eps));
    // (x − mean)·scale + shift, the subtraction first: exact for nearby values, where
    // x·scale + (shift − mean·scale) would cancel when the mean is large.
    const float scale = invstd[k] * (weight ? weight[k] : 1.0f);
    const float shift = bias ? bias[k] : 0.0f, m = mean[k];
    for (int64_t b = 0; b < n; ++b) {
      const float* __restrict xr = x + (b * c + k) * s;
      float* __restrict yr = y + (b * c + k) * s;
      for (int64_t i = 0; i < s; ++i) yr[i] = (xr[i] - m) * scale + shift;
    }
  }
}

RTSEG_CPU_CLONES
void batch_norm_backward_channels(float* dx, float* dweight, float* dbias, const float* grad,
                                  const float* x, const float* mean, const float* invstd,
                                  const float* weight, int64_t n, int64_t c, int64_t s,
                                  bool batch_stats, int64_t k0, int64_t k1) {
  const double count = static_cast<double>(n * s);
  for (int64_t k = k0; k < k1; ++k) {
    const double m = mean[k], is = invstd[k];
    double sum_g = 0.0, sum_gx = 0.0;  // Σg and Σ g·x̂
    for (int64_t b = 0; b < n; ++b) {
      const float* __restrict gr = grad + (b * c + k) * s;
      const float* __restrict xr = x + (b * c + k) * s;
      sum_g += lane_sum(s, [&](int64_t i) { return static_cast<double>(gr[i]); });
      sum_gx += lane_sum(s, [&](int64_t i) {
        return static_cast<double>(gr[i]) * ((static_cast<double>(xr[i]) - m) * is);
      });
    }
    if (dweight) dweight[k] = static_cast<float>(sum_gx);
    if (dbias) dbias[k] = static_cast<float>(sum_g);
    if (!dx) continue;
    const double gamma = weight ? static_cast<double>(weight[k]) : 1.0;
    // dx = a·g + b·x̂ + c0 with the per-channel constants in float.
    const float a = static_cast<float>(gamma * is);
    const float bx = batch_stats ? static_cast<float>(-gamma * is * sum_gx / count) : 0.0f;
    const float c0 = batch_stats ? static_cast<float>(-gamma * is * sum_g / count) : 0.0f;
    for (int64_t b = 0; b < n; ++b) {
      const float* __restrict gr = grad + (b * c + k) * s;
      const float* __restrict xr = x + (b * c + k) * s;
      float* __restrict dr = dx + (b * c + k) * s;
      const float mf = mean[k], isf = invstd[k];
      for (int64_t i = 0; i < s; ++i) dr[i] = a * gr[i] + bx * ((xr[i] - mf) * isf) + c0;
    }
  }
}

}  // namespace rtseg::cpu_fast
