// Batch normalisation on the fast CPU backend, float32, the contract of the reference kernels
// (kernels/cpu/batch_norm.h) for the channels [k0, k1) of a contiguous N×C×S input: the sums in
// double as the reference's, but in vector lanes (the reference adds one value at a time, a
// dependent add per value) and the mean about a pivot; the elementwise passes in float. The entry
// points split the channels over the thread pool; each channel's arithmetic is fixed, so the
// results do not depend on the split.
#pragma once

#include <cstdint>

#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu_fast/exec.h"

namespace rtseg::cpu_fast {

// The channels [k0, k1) of each pass.
void batch_norm_stats_channels(float* mean, float* var, const float* x, int64_t n, int64_t c,
                               int64_t s, int64_t k0, int64_t k1);
void batch_norm_forward_channels(float* y, float* invstd, const float* x, const float* mean,
                                 const float* var, const float* weight, const float* bias,
                                 int64_t n, int64_t c, int64_t s, double eps, int64_t k0,
                                 int64_t k1);
void batch_norm_backward_channels(float* dx, float* dweight, float* dbias, const float* grad,
                                  const float* x, const float* mean, const float* invstd,
                                  const float* weight, int64_t n, int64_t c, int64_t s,
                                  bool batch_stats, int64_t k0, int64_t k1);

// The entry points: the reference's signatures (kernels/cpu/batch_norm.h) for this context.
inline void batch_norm_stats(const Exec& exec, float* mean, float* var, const float* x, int64_t n,
                             int64_t c, int64_t s, double* /*workspace*/) {
  exec.for_ranges(c, cpu::grain_for(n * s), [&](int64_t k0, int64_t k1) {
    batch_norm_stats_channels(mean, var, x, n, c, s, k0, k1);
  });
}

inline void batch_norm_forward(const Exec& exec, float* y, float* invstd, const float* x,
                               const float* mean, const float* var, const float* weight,
                               const float* bias, int64_t n, int64_t c, int64_t s, double eps) {
  exec.for_ranges(c, cpu::grain_for(n * s), [&](int64_t k0, int64_t k1) {
    batch_norm_forward_channels(y, invstd, x, mean, var, weight, bias, n, c, s, eps, k0, k1);
  });
}

inline void batch_norm_backward(const Exec& exec, float* dx, float* dweight, float* dbias,
                                const float* grad, const float* x, const float* mean,
                                const float* invstd, const float* weight, int64_t n, int64_t c,
                                int64_t s, bool batch_stats, double* /*workspace*/) {
  exec.for_ranges(c, cpu::grain_for(n * s), [&](int64_t k0, int64_t k1) {
    batch_norm_backward_channels(dx, dweight, dbias, grad, x, mean, invstd, weight, n, c, s,
                                 batch_stats, k0, k1);
  });
}

}  // namespace rtseg::cpu_fast
