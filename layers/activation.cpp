#include "layers/activation.h"

#include "core/ops/activation.h"

namespace rtseg {

PReLU::PReLU(int64_t num_parameters, double init) {
  RTSEG_CHECK(num_parameters > 0, "PReLU: num_parameters must be positive, got {}", num_parameters);
  weight = register_parameter("weight", Tensor::full({num_parameters}, init));
}

Tensor PReLU::forward(const Tensor& x) { return prelu(x, weight); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor ReLU6::forward(const Tensor& x) { return relu6(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

}  // namespace rtseg
