// Reductions.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace rtseg {

Tensor sum(const Tensor& x);   // all elements -> shape []
Tensor mean(const Tensor& x);  // all elements -> shape []
// Over the listed dimensions (negative counts from the end).
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

}  // namespace rtseg
