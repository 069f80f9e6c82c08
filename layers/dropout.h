// Dropout as torch.nn.Dropout: active in training only. The module owns its Generator (seeded at
// construction) so that masks are reproducible run to run.
#pragma once

#include "core/random.h"
#include "layers/module.h"

namespace rtseg {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, uint64_t seed = 0);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  Generator& generator() { return gen_; }

 private:
  double p_;
  Generator gen_;
};

}  // namespace rtseg
