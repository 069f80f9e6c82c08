// Batch normalisation on the fast CPU backend, float32, the contract of the reference kernels
// (kernels/cpu/batch_norm.h) for the channels [k0, k1) of a contiguous N×C×S input: the sums in
// double as the reference's, but in vector lanes (the reference adds one value at a time, a
// dependent add per value) and the mean about a pivot; the elementwise passes in float. The
// caller splits the channels over the thread pool; each channel's arithmetic is fixed, so the
// results do not depend on the split.
#pragma once

#include <cstdint>

namespace rtseg::cpu_fast {

void batch_norm_stats(float* mean, float* var, const float* x, int64_t n, int64_t c, int64_t s,
                      int64_t k0, int64_t k1);
void batch_norm_forward(float* y, float* invstd, const float* x, const float* mean,
                        const float* var, const float* weight, const float* bias, int64_t n,
                        int64_t c, int64_t s, double eps, int64_t k0, int64_t k1);
void batch_norm_backward(float* dx, float* dweight, float* dbias, const float* grad, const float* x,
                         const float* mean, const float* invstd, const float* weight, int64_t n,
                         int64_t c, int64_t s, bool batch_stats, int64_t k0, int64_t k1);

}  // namespace rtseg::cpu_fast
