#include "layers/dropout.h"

#include "core/ops/norm.h"

namespace rtseg {

Dropout::Dropout(double p, uint64_t seed) : p_(p), gen_(seed) {
  RTSEG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got {}", p);
  register_generator("dropout", &gen_);
}

Tensor Dropout::forward_impl(const Tensor& x) { return dropout(x, p_, is_training(), gen_); }

}  // namespace rtseg
