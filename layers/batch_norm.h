// BatchNorm2d as torch.nn.BatchNorm2d (affine, tracking running statistics): parameters
// weight (γ = 1) and bias (β = 0); buffers running_mean (0), running_var (1) and
// num_batches_tracked (int64 scalar, counted in training).
#pragma once

#include "layers/module.h"

namespace rtseg {

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "BatchNorm2d"; }

  int64_t channels() const { return channels_; }
  // After fold_batchnorm merged this BN into the conv before it, forward is the identity.
  void mark_folded() { folded_ = true; }
  bool is_folded() const { return folded_; }
  double eps() const { return eps_; }
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t channels_;
  double momentum_, eps_;
  bool folded_ = false;
};

}  // namespace rtseg
