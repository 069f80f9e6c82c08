#include "layers/bn_prelu.h"

namespace rtseg {

BNPReLU::BNPReLU(int64_t channels) {
  bn = register_module("bn", std::make_shared<BatchNorm2d>(channels));
  act = register_module("act", std::make_shared<PReLU>(channels));
}

Tensor BNPReLU::forward_impl(const Tensor& x) { return act->forward(bn->forward(x)); }

}  // namespace rtseg
