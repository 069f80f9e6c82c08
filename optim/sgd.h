// SGD with momentum, Nesterov momentum and L2 weight decay, with PyTorch's exact semantics
// (core/ops/sgd_update.h) and parameter groups. One fused pass per parameter on either device.
#pragma once

#include <string>
#include <vector>

#include "core/ops/sgd_update.h"
#include "core/tensor.h"

namespace rtseg {

struct ParamGroup {
  std::vector<Tensor> params;
  SgdHyper hyper;
  double initial_lr = 0.0;  // set from hyper.lr at construction; schedules scale from it
};

class SGD {
 public:
  explicit SGD(std::vector<ParamGroup> groups);
  SGD(const std::vector<Tensor>& params, const SgdHyper& hyper);

  // Applies one update to every parameter that has a gradient (others are skipped, as PyTorch
  // does). Runs without recording autograd history.
  void step();
  void zero_grad();

  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  int64_t steps_taken() const { return steps_; }

  // Momentum buffers, one per parameter in group order (undefined until the parameter's first
  // step): what a training checkpoint must store to resume bit-identically.
  std::vector<Tensor>& momentum_buffers() { return buffers_; }
  void set_steps_taken(int64_t steps) { steps_ = steps; }

 private:
  std::vector<ParamGroup> groups_;
  std::vector<Tensor> buffers_;  // flat, in group order
  int64_t steps_ = 0;
};

}  // namespace rtseg
