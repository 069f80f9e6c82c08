// Losses averaged over all elements of two equally shaped tensors: balanced BCE and MSE.
#include "kernels/cpu/loss_elementwise.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"

namespace rtseg {

namespace {

// Both operands floating, same dtype, device and shape, and not empty (a mean of nothing has no
// value; PyTorch returns NaN).
void check_pair(const char* op, const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  check::floating(op, a, an);
  check::floating(op, b, bn);
  check::compatible(op, a, an, b, bn);
  check::cpu_kernel(op, a);
  RTSEG_CHECK(a.shape() == b.shape(), "{}: {} is {} but {} is {}; the shapes must be equal", op, an,
              a.describe(), bn, b.describe());
  RTSEG_CHECK(a.numel() > 0, "{}: {} is empty", op, an);
}

}  // namespace

Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target) {
  const char* op = "balanced_bce_with_logits";
  check_pair(op, logits, "logits", target, "target");
  const Tensor x = as_contiguous(logits);
  const Tensor t = as_contiguous(target);
  const int64_t n = x.numel();
  cpu::BalancedWeights w;
  double value = 0.0;
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    w = cpu::balanced_weights(t.data<scalar_t>(), n);
    value = cpu::balanced_bce_forward(x.data<scalar_t>(), t.data<scalar_t>(), n, w);
  });
  Tensor out = Tensor::full(Shape{}, value, x.dtype(), x.device());
  // The target is an edge map and its weights are counts of it: no gradient flows to it, even
  // when it requires one (it is not an input of the recorded node).
  autograd::record(op, {logits}, {out},
                   [op, x, t, w](const autograd::TensorList& grads, const std::vector<bool>&) {
                     const double g = grads[0].item();
                     Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
                     RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
                       cpu::balanced_bce_backward(gx.data<scalar_t>(), x.data<scalar_t>(),
                                                  t.data<scalar_t>(), x.numel(), w,
                                                  static_cast<scalar_t>(g));
                     });
                     return autograd::TensorList{gx};
                   });
  return out;
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  const char* op = "mse_loss";
  check_pair(op, prediction, "prediction", target, "target");
  const Tensor p = as_contiguous(prediction);
  const Tensor t = as_contiguous(target);
  double value = 0.0;
  RTSEG_DISPATCH_FLOATING(p.dtype(), op, [&] {
    value = cpu::mse_forward(p.data<scalar_t>(), t.data<scalar_t>(), p.numel());
  });
  Tensor out = Tensor::full(Shape{}, value, p.dtype(), p.device());
  autograd::record(op, {prediction, target}, {out},
                   [op, p, t](const autograd::TensorList& grads, const std::vector<bool>& need) {
                     const double g = grads[0].item();
                     Tensor gp, gt;
                     if (need[0]) gp = Tensor::empty(p.shape(), p.dtype(), p.device());
                     if (need[1]) gt = Tensor::empty(t.shape(), t.dtype(), t.device());
                     RTSEG_DISPATCH_FLOATING(p.dtype(), op, [&] {
                       cpu::mse_backward(gp.defined() ? gp.data<scalar_t>() : nullptr,
                                         gt.defined() ? gt.data<scalar_t>() : nullptr,
                                         p.data<scalar_t>(), t.data<scalar_t>(), p.numel(),
                                         static_cast<scalar_t>(g));
                     });
                     return autograd::TensorList{gp, gt};
                   });
  return out;
}

}  // namespace rtseg
