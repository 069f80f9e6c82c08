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

// Index of the largest value along dimension 1 of an N×C×H×W tensor -> int64 N×H×W (the first
// one on ties, as torch.argmax). Not differentiable (records nothing).
Tensor argmax_channels(const Tensor& x);

}  // namespace rtseg
