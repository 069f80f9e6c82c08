#include "core/ops/softmax.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/softmax.h"

namespace rtseg {

namespace {

cpu::SoftmaxGeometry softmax_geometry(const char* op, const Tensor& x, int64_t dim) {
  RTSEG_CHECK(x.dim() >= 1, "{}: input must have at least 1 dimension, got {}", op, x.describe());
  const int64_t d = dim < 0 ? dim + x.dim() : dim;
  RTSEG_CHECK(d >= 0 && d < x.dim(), "{}: dimension {} out of range for {}", op, dim, x.describe());
  cpu::SoftmaxGeometry g;
  g.outer = 1;
  g.inner = 1;
  for (int64_t i = 0; i < d; ++i) g.outer *= x.shape()[i];
  g.dim = x.shape()[d];
  for (int64_t i = d + 1; i < x.dim(); ++i) g.inner *= x.shape()[i];
  return g;
}

// Both ops share everything but the formula; the backward needs only the (detached) output.
Tensor softmax_impl(const char* op, const Tensor& x_in, int64_t dim, bool log_form) {
  check::floating(op, x_in, "input");
  const cpu::SoftmaxGeometry g = softmax_geometry(op, x_in, dim);
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    softmax_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), g, log_form);
  });
  const Tensor y_saved = y.detach();
  autograd::record(
      op, {x_in}, {y},
      [op, g, y_saved, log_form](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor gy = as_contiguous(grads[0]);
        Tensor gx = Tensor::empty(y_saved.shape(), y_saved.dtype(), y_saved.device());
        RTSEG_DISPATCH_KERNELS(gy, op, [&](const auto& exec) {
          softmax_backward(exec, gx.data<scalar_t>(), y_saved.data<scalar_t>(), gy.data<scalar_t>(),
                           g, log_form);
        });
        return autograd::TensorList{gx};
      });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl("log_softmax", x, dim, true);
}

}  // namespace rtseg
