// Per-pixel cross-entropy on the fast CPU backend, float32, the contract of the reference
// kernels (kernels/cpu/loss_cross_entropy.h) and the same arithmetic per pixel in the same order
// (so the same bits): what changes is the walk. The reference visits one pixel at a time and
// reads its C logits a plane apart; here a block of pixels of one image is read plane by plane
// (contiguous), the backward computes each exp once instead of twice, and the blocks run on the
// thread pool (each pixel's result is its own: no reduction crosses a block).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/loss_cross_entropy.h"
#include "kernels/cpu_fast/exec.h"

namespace rtseg::cpu_fast {

// loss, weight, prob (prob may be null) as cpu::cross_entropy_pixels.
void cross_entropy_pixels(float* loss, float* weight, float* prob, const float* logits,
                          const int64_t* target, const float* class_weights,
                          const cpu::ClassMapGeometry& g, int64_t ignore_index);

// The entry points for the fast backend's context, with the reference's signatures
// (kernels/cpu/loss_cross_entropy.h): its reductions over the per-pixel kernel above.
inline void cross_entropy_map(const Exec&, float* loss, const float* logits, const int64_t* target,
                              const float* class_weights, const cpu::ClassMapGeometry& g,
                              int64_t ignore_index) {
  std::vector<float> weight(static_cast<size_t>(g.pixels()));
  cross_entropy_pixels(loss, weight.data(), nullptr, logits, target, class_weights, g,
                       ignore_index);
}

inline void cross_entropy_reduce(const Exec&, float* out, double* scale, const float* logits,
                                 const int64_t* target, const float* class_weights,
                                 const cpu::ClassMapGeometry& g, int64_t ignore_index, bool mean,
                                 void* /*workspace*/) {
  cpu::detail::reduce_pixels(
      out, scale, g.pixels(), mean, [&](float* loss, float* weight, float* prob) {
        cross_entropy_pixels(loss, weight, prob, logits, target, class_weights, g, ignore_index);
      });
}

inline void ohem_cross_entropy(const Exec&, float* out, float* key, float* threshold, double* scale,
                               const float* logits, const int64_t* target,
                               const float* class_weights, const cpu::ClassMapGeometry& g,
                               int64_t ignore_index, int64_t min_kept, float thresh,
                               void* /*workspace*/, int64_t /*workspace_bytes*/) {
  cpu::detail::ohem_pixels(out, key, threshold, scale, target, g.pixels(), ignore_index, min_kept,
                           thresh, [&](float* loss, float* weight, float* prob) {
                             cross_entropy_pixels(loss, weight, prob, logits, target, class_weights,
                                                  g, ignore_index);
                           });
}

// grad as cpu::cross_entropy_backward, each exp computed once.
void cross_entropy_backward(const Exec& exec, float* grad, const float* logits,
                            const int64_t* target, const float* class_weights,
                            const cpu::ClassMapGeometry& g, int64_t ignore_index,
                            const cpu::CrossEntropyGradScale<float>& scale);

}  // namespace rtseg::cpu_fast
