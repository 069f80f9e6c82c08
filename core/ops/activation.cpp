#include "core/ops/activation.h"

#include "core/ops/pointwise.h"

namespace rtseg {

Tensor relu(const Tensor& x) { return detail::pointwise<unary::Relu>(x); }
Tensor relu6(const Tensor& x) { return detail::pointwise<unary::Relu6>(x); }
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return detail::pointwise<unary::LeakyRelu>(x, negative_slope);
}
Tensor sigmoid(const Tensor& x) { return detail::pointwise<unary::Sigmoid>(x); }
Tensor tanh(const Tensor& x) { return detail::pointwise<unary::Tanh>(x); }
Tensor hardswish(const Tensor& x) { return detail::pointwise<unary::Hardswish>(x); }

}  // namespace rtseg
