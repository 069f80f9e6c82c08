#include "layers/upsample.h"

#include "core/ops/resize.h"

namespace rtseg {

std::shared_ptr<Upsample> Upsample::by_factor(int64_t factor, Mode mode, bool align_corners) {
  RTSEG_CHECK(factor > 0, "Upsample: factor must be positive, got {}", factor);
  return std::shared_ptr<Upsample>(new Upsample(factor, 0, 0, mode, align_corners));
}

std::shared_ptr<Upsample> Upsample::to_size(int64_t out_h, int64_t out_w, Mode mode,
                                            bool align_corners) {
  RTSEG_CHECK(out_h > 0 && out_w > 0, "Upsample: size must be positive, got {}x{}", out_h, out_w);
  return std::shared_ptr<Upsample>(new Upsample(0, out_h, out_w, mode, align_corners));
}

Tensor Upsample::forward_impl(const Tensor& x) {
  RTSEG_CHECK(x.dim() == 4, "Upsample: input must be N×C×H×W, got {}", x.describe());
  const int64_t h = factor_ > 0 ? x.size(2) * factor_ : h_;
  const int64_t w = factor_ > 0 ? x.size(3) * factor_ : w_;
  return mode_ == Mode::Bilinear ? interpolate_bilinear(x, h, w, align_corners_)
                                 : interpolate_nearest(x, h, w);
}

}  // namespace rtseg
