#include "layers/linear.h"

#include "core/ops/conv.h"
#include "layers/init.h"

namespace rtseg {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias, Generator& gen) {
  RTSEG_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive ({} -> {})",
              in_features, out_features);
  weight = register_parameter("weight", default_weight_init({out_features, in_features}, gen));
  if (with_bias)
    bias = register_parameter("bias", default_bias_init(out_features, in_features, gen));
}

// The op reports the cost (summaries).
Tensor Linear::forward_impl(const Tensor& x) { return linear(x, weight, bias); }

}  // namespace rtseg
