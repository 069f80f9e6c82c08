// BatchNorm followed by a per-channel PReLU, with the children `bn` and `act` (the names of the
// "ABN" block in CIFReNet's checkpoints).
#pragma once

#include <memory>

#include "layers/activation.h"
#include "layers/batch_norm.h"

namespace rtseg {

class BNPReLU : public Module {
 public:
  explicit BNPReLU(int64_t channels);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "BNPReLU"; }
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<PReLU> act;
};

}  // namespace rtseg
