#include "layers/activation.h"

#include "core/ops/activation.h"
#include "core/profile.h"

namespace rtseg {

PReLU::PReLU(int64_t num_parameters, double init) {
  RTSEG_CHECK(num_parameters > 0, "PReLU: num_parameters must be positive, got {}", num_parameters);
  weight = register_parameter("weight", Tensor::full({num_parameters}, init));
}

namespace {

Tensor reported(OpCost::Kind kind, const Tensor& y) {
  OpCost cost{kind};
  cost.elements = y.numel();
  report_cost(cost);
  return y;
}

}  // namespace

Tensor PReLU::forward_impl(const Tensor& x) {
  return reported(OpCost::Kind::PReLU, prelu(x, weight));
}
Tensor ReLU::forward_impl(const Tensor& x) { return fused_ ? x : relu(x); }
Tensor ReLU6::forward_impl(const Tensor& x) { return fused_ ? x : relu6(x); }
Tensor LeakyReLU::forward_impl(const Tensor& x) {
  return reported(OpCost::Kind::LeakyReLU, leaky_relu(x, slope_));
}
Tensor Sigmoid::forward_impl(const Tensor& x) { return sigmoid(x); }

}  // namespace rtseg
