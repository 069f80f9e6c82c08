// AdaptiveAvgPool2d as torch.nn.AdaptiveAvgPool2d (global pooling with size 1).
#pragma once

#include "layers/module.h"

namespace rtseg {

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(int64_t out_h = 1, int64_t out_w = 1) : out_h_(out_h), out_w_(out_w) {}
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  int64_t out_h() const { return out_h_; }
  int64_t out_w() const { return out_w_; }

 private:
  int64_t out_h_, out_w_;
};

}  // namespace rtseg
