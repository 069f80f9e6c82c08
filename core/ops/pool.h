// Pooling over the spatial dimensions of N×C×H×W, and pooling across channels.
#pragma once

#include <array>

#include "core/tensor.h"

namespace rtseg {

struct Pool2dParams {
  std::array<int64_t, 2> kernel{2, 2};
  std::array<int64_t, 2> stride{2, 2};
  std::array<int64_t, 2> padding{0, 0};
  bool ceil_mode = false;         // output size rounds up instead of down (PyTorch rules)
  bool count_include_pad = true;  // avg only: zero padding counts in the divisor
};

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);  // padding is -inf, as PyTorch
// PyTorch's adaptive average pooling: output cell i covers [floor(i·H/s), ceil((i+1)·H/s)).
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// Max / mean over the channel dimension: N×C×H×W -> N×1×H×W (keepdim). Max's gradient goes to
// the first maximal channel.
Tensor channel_max(const Tensor& x);
Tensor channel_mean(const Tensor& x);

}  // namespace rtseg
