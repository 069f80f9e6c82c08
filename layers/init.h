// Parameter initialisation with PyTorch's rules, drawn from an explicit Generator.
#pragma once

#include "core/random.h"

namespace rtseg {

// PyTorch's default for Conv2d/Linear weights: kaiming_uniform(a = √5), i.e. U(−b, b) with
// b = 1/√fan_in; and for their biases U(−1/√fan_in, 1/√fan_in).
Tensor default_weight_init(const Shape& shape, Generator& gen);
Tensor default_bias_init(int64_t size, int64_t fan_in, Generator& gen);
// fan_in of a K×C×R×S (or out×in) weight: C·R·S.
int64_t fan_in_of(const Shape& weight_shape);

}  // namespace rtseg
