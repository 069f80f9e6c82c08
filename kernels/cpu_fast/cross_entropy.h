// Per-pixel cross-entropy on the fast CPU backend, float32, the contract of the reference
// kernels (kernels/cpu/loss_cross_entropy.h) and the same arithmetic per pixel in the same order
// (so the same bits): what changes is the walk. The reference visits one pixel at a time and
// reads its C logits a plane apart; here a block of pixels of one image is read plane by plane
// (contiguous), the backward computes each exp once instead of twice, and the blocks run on the
// thread pool (each pixel's result is its own: no reduction crosses a block).
#pragma once

#include <cstdint>

#include "kernels/cpu/loss_cross_entropy.h"

namespace rtseg::cpu_fast {

// loss, weight, prob (prob may be null) as cpu::cross_entropy_pixels.
void cross_entropy_pixels(float* loss, float* weight, float* prob, const float* logits,
                          const int64_t* target, const float* class_weights,
                          const cpu::ClassMapGeometry& g, int64_t ignore_index);

// grad as cpu::cross_entropy_backward with scale(i) = 0 where keep is given and keep[i] == 0,
// else per_pixel[i] where per_pixel is given, else uniform.
struct CrossEntropyScale {
  const float* per_pixel = nullptr;
  const uint8_t* keep = nullptr;
  float uniform = 1.0f;
};
void cross_entropy_backward(float* grad, const float* logits, const int64_t* target,
                            const float* class_weights, const cpu::ClassMapGeometry& g,
                            int64_t ignore_index, const CrossEntropyScale& scale);

}  // namespace rtseg::cpu_fast
