// Ops that rearrange elements without arithmetic. reshape and narrow return views when they can
// (sharing storage); the others copy.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace rtseg {

// One dimension may be -1 (inferred). A view when x is contiguous, else a copy.
Tensor reshape(const Tensor& x, const Shape& shape);
// Elements [start, start + length) of dimension `dim`, as a view.
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// x itself when already contiguous, else a contiguous copy (gradient passes through).
Tensor contiguous(const Tensor& x);

// Concatenation along `dim` (channels by default); all other dimensions must agree.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim = 1);
// Splits dimension `dim` into consecutive pieces of the given sizes (they must add up).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 1);
// ShuffleNet's channel shuffle: view C as (groups, C/groups), swap the two axes, flatten back.
Tensor channel_shuffle(const Tensor& x, int64_t groups);

}  // namespace rtseg
