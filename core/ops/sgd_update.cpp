#include "core/ops/sgd_update.h"

#include "core/kernel_dispatch.h"
#include "kernels/cpu/sgd.h"
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
  RTSEG_DISPATCH_KERNELS(param, "SGD", [&](const auto& exec) {
    sgd_step(exec, param.data<scalar_t>(), g.data<scalar_t>(),
             momentum_buffer.defined() ? momentum_buffer.data<scalar_t>() : nullptr, param.numel(),
             first_step, hyper);
  });
}

}  // namespace rtseg
