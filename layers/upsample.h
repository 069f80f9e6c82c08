// Resizing as a module: bilinear (align_corners chosen explicitly, since the nets use both) or
// nearest, to a fixed size or by an integer factor.
#pragma once

#include "layers/module.h"

namespace rtseg {

class Upsample : public Module {
 public:
  enum class Mode { Bilinear, Nearest };
  // factor > 0: output = factor × input size; else out_h × out_w.
  static std::shared_ptr<Upsample> by_factor(int64_t factor, Mode mode, bool align_corners);
  static std::shared_ptr<Upsample> to_size(int64_t out_h, int64_t out_w, Mode mode,
                                           bool align_corners);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Upsample"; }

 private:
  Upsample(int64_t factor, int64_t h, int64_t w, Mode mode, bool align_corners)
      : factor_(factor), h_(h), w_(w), mode_(mode), align_corners_(align_corners) {}
  int64_t factor_, h_, w_;
  Mode mode_;
  bool align_corners_;
};

}  // namespace rtseg
