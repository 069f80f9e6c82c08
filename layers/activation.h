// Activation modules. PReLU holds its slopes (init 0.25 as torch.nn.PReLU); the others are
// parameter-free wrappers so they can sit in a Sequential with PyTorch's indices.
#pragma once

#include "layers/module.h"

namespace rtseg {

class PReLU : public Module {
 public:
  explicit PReLU(int64_t num_parameters = 1, double init = 0.25);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "PReLU"; }
  Tensor weight;
};

class ReLU : public Module {
 public:
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
  // After fuse_conv_activations made it the epilogue of the conv before it: the identity.
  void mark_fused() { fused_ = true; }
  bool is_fused() const { return fused_; }

 private:
  bool fused_ = false;
};

class ReLU6 : public Module {
 public:
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ReLU6"; }
  // After fuse_conv_activations made it the epilogue of the conv before it: the identity.
  void mark_fused() { fused_ = true; }
  bool is_fused() const { return fused_; }

 private:
  bool fused_ = false;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }

 private:
  double slope_;
};

class Sigmoid : public Module {
 public:
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};

}  // namespace rtseg
