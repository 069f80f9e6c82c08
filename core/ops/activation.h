// Pointwise activations (their math: kernels/unary_element.h). Kinks (x = 0 for relu, 0 and 6 for
// relu6) take the gradient of the left piece, as PyTorch does (relu'(0) = 0).
#pragma once

#include "core/tensor.h"

namespace rtseg {

Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// x·relu6(x + 3)/6, MobileNetV3's activation.
Tensor hardswish(const Tensor& x);
// Per-channel parametric ReLU: `weight` has C slopes (channel = dim 1 of x) or a single one.
Tensor prelu(const Tensor& x, const Tensor& weight);

}  // namespace rtseg
