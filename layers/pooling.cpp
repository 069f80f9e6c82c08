#include "layers/pooling.h"

#include "core/ops/pool.h"

namespace rtseg {

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, out_h_, out_w_); }

}  // namespace rtseg
