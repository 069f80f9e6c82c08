#include "layers/pooling.h"

#include "core/ops/pool.h"
#include "core/profile.h"

namespace rtseg {

Tensor AdaptiveAvgPool2d::forward_impl(const Tensor& x) {
  Tensor y = adaptive_avg_pool2d(x, out_h_, out_w_);
  OpCost cost{OpCost::Kind::AdaptiveAvgPool};
  cost.elements = y.numel();
  // thop's rule: the window of an evenly divided map, (H/out)·(W/out) elements
  cost.window = (x.size(2) / out_h_) * (x.size(3) / out_w_);
  report_cost(cost);
  return y;
}

}  // namespace rtseg
