// Linear as torch.nn.Linear: weight out×in, optional bias out; y = x·Wᵀ + b.
#pragma once

#include "core/random.h"
#include "layers/module.h"

namespace rtseg {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  Tensor weight, bias;
};

}  // namespace rtseg
