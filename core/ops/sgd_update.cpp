#include "core/ops/sgd_update.h"

#include "core/dispatch.h"
#include "kernels/cuda/sgd.h"

namespace rtseg {

void sgd_update_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                 bool first_step, const SgdHyper& hyper) {
  RTSEG_CHECK(param.is_contiguous(), "SGD: parameter {} is not contiguous", param.describe());
  RTSEG_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype() &&
                  grad.device() == param.device(),
              "SGD: gradient {} does not match parameter {}", grad.describe(), param.describe());
  RTSEG_CHECK(hyper.momentum == 0.0 ||
                  (momentum_buffer.defined() && momentum_buffer.shape() == param.shape() &&
                   momentum_buffer.is_contiguous()),
              "SGD: momentum {} needs a contiguous buffer shaped like {}", hyper.momentum,
              param.describe());
  const Tensor g = as_contiguous(grad);
  RTSEG_DISPATCH_FLOATING(param.dtype(), "SGD", [&] {
    scalar_t* p = param.data<scalar_t>();
    const scalar_t* dp = g.data<scalar_t>();
    scalar_t* buf = momentum_buffer.defined() ? momentum_buffer.data<scalar_t>() : nullptr;
    if (param.device().is_cpu()) {
      scalar_t none = 0;
      for (int64_t i = 0, n = param.numel(); i < n; ++i) {
        sgd_update(p[i], dp[i], buf ? buf[i] : none, first_step, hyper);
      }
    } else {
      RTSEG_CUDA_ONLY("SGD", cuda::sgd_step(p, dp, buf, param.numel(), first_step, hyper,
                                            cuda::stream_of(param.device().index)));
    }
  });
}

}  // namespace rtseg
