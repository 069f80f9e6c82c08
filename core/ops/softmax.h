// Softmax over one dimension (channels by default), numerically stable (max subtracted).
#pragma once

#include "core/tensor.h"

namespace rtseg {

Tensor softmax(const Tensor& x, int64_t dim = 1);
Tensor log_softmax(const Tensor& x, int64_t dim = 1);

}  // namespace rtseg
