#include "layers/batch_norm.h"

#include "core/ops/norm.h"
#include "core/profile.h"

namespace rtseg {

BatchNorm2d::BatchNorm2d(int64_t channels, double momentum, double eps)
    : channels_(channels), momentum_(momentum), eps_(eps) {
  RTSEG_CHECK(channels > 0, "BatchNorm2d: channels must be positive, got {}", channels);
  weight = register_parameter("weight", Tensor::ones({channels}));
  bias = register_parameter("bias", Tensor::zeros({channels}));
  running_mean = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var = register_buffer("running_var", Tensor::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64));
}

Tensor BatchNorm2d::forward_impl(const Tensor& x) {
  if (folded_) {
    RTSEG_CHECK(!is_training(),
                "BatchNorm2d: folded into its conv; the model is for inference only");
    return x;
  }
  Tensor y = batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum_, eps_);
  OpCost cost{OpCost::Kind::BatchNorm};
  cost.elements = y.numel();
  report_cost(cost);
  if (is_training()) {
    // A scalar counter: a host round trip on the GPU is negligible next to the conv it follows.
    num_batches_tracked.fill(static_cast<double>(num_batches_tracked.item()) + 1.0);
  }
  return y;
}

}  // namespace rtseg
