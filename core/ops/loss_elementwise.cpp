// Losses averaged over all elements of two equally shaped tensors: balanced BCE and MSE.
#include "kernels/cpu/loss_elementwise.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"
#include "kernels/cuda/loss_elementwise.h"

namespace rtseg {

namespace {

// Both operands floating, same dtype, device and shape, and not empty (a mean of nothing has no
// value; PyTorch returns NaN).
void check_pair(const char* op, const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  check::floating(op, a, an);
  check::floating(op, b, bn);
  check::compatible(op, a, an, b, bn);
  RTSEG_CHECK(a.shape() == b.shape(), "{}: {} is {} but {} is {}; the shapes must be equal", op, an,
              a.describe(), bn, b.describe());
  RTSEG_CHECK(a.numel() > 0, "{}: {} is empty", op, an);
}

}  // namespace

// The loss, the class weights and the incoming gradient stay on the tensors' device.
Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target) {
  const char* op = "balanced_bce_with_logits";
  check_pair(op, logits, "logits", target, "target");
  const Tensor x = as_contiguous(logits);
  const Tensor t = as_contiguous(target);
  const Device device = x.device();
  Tensor out = Tensor::empty(Shape{}, x.dtype(), device);
  Tensor weights = Tensor::empty({2}, DType::F64, device);  // positive, negative
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    const Workspace ws(elementwise_loss_workspace_bytes(exec), DType::U8, device);
    balanced_bce_forward(exec, out.data<scalar_t>(), weights.data<double>(), x.data<scalar_t>(),
                         t.data<scalar_t>(), x.numel(), ws.bytes());
  });
  // The target is an edge map and its weights are counts of it: no gradient flows to it, even
  // when it requires one (it is not an input of the recorded node).
  autograd::record(
      op, {logits}, {out},
      [op, x, t, weights](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
        RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
          balanced_bce_backward(exec, gx.data<scalar_t>(), x.data<scalar_t>(), t.data<scalar_t>(),
                                x.numel(), weights.data<double>(), go.data<scalar_t>());
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
  const Device device = p.device();
  Tensor out = Tensor::empty(Shape{}, p.dtype(), device);
  RTSEG_DISPATCH_KERNELS(p, op, [&](const auto& exec) {
    const Workspace ws(elementwise_loss_workspace_bytes(exec), DType::U8, device);
    mse_forward(exec, out.data<scalar_t>(), p.data<scalar_t>(), t.data<scalar_t>(), p.numel(),
                ws.bytes());
  });
  autograd::record(op, {prediction, target}, {out},
                   [op, p, t](const autograd::TensorList& grads, const std::vector<bool>& need) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gp, gt;
                     if (need[0]) gp = Tensor::empty(p.shape(), p.dtype(), p.device());
                     if (need[1]) gt = Tensor::empty(t.shape(), t.dtype(), t.device());
                     RTSEG_DISPATCH_KERNELS(p, op, [&](const auto& exec) {
                       mse_backward(exec, gp.defined() ? gp.data<scalar_t>() : nullptr,
                                    gt.defined() ? gt.data<scalar_t>() : nullptr,
                                    p.data<scalar_t>(), t.data<scalar_t>(), p.numel(),
                                    go.data<scalar_t>());
                     });
                     return autograd::TensorList{gp, gt};
                   });
  return out;
}

}  // namespace rtseg
