// The fused in-place SGD update of one parameter and its momentum buffer (PyTorch's
// torch.optim.SGD step, formula in kernels/sgd_update.h), on the parameter's device. Not
// differentiable and records nothing: optimisers call it under no-grad.
#pragma once

#include "core/tensor.h"
#include "kernels/sgd_update.h"

namespace rtseg {

// param -= lr·d for the contiguous `param`; `grad` has its shape, dtype and device (any layout);
// `momentum_buffer` is undefined when hyper.momentum == 0, else contiguous like `param` and
// (re)initialised from the gradient when `first_step`.
void sgd_update_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                 bool first_step, const SgdHyper& hyper);

}  // namespace rtseg
