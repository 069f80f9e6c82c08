// prelu is declared with the other activations (core/ops/activation.h); it lives in its own file
// because, unlike them, it has a learnable per-channel parameter and its own kernels.
#include "kernels/cpu/prelu.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/activation.h"
#include "kernels/cuda/prelu.h"

namespace rtseg {

Tensor prelu(const Tensor& x_in, const Tensor& weight_in) {
  const char* op = "prelu";
  check::floating(op, x_in, "input");
  check::floating(op, weight_in, "weight");
  check::compatible(op, x_in, "input", weight_in, "weight");
  // PyTorch's rules: the weight is a scalar or a vector of one slope, or of one slope per
  // channel, the channel being dimension 1 (a 1-D input has one channel).
  RTSEG_CHECK(weight_in.dim() <= 1, "prelu: weight must be a scalar or a 1-D tensor, got {}",
              weight_in.describe());
  const int64_t channels = x_in.dim() >= 2 ? x_in.size(1) : 1;
  const int64_t slopes = weight_in.numel();
  RTSEG_CHECK(slopes == 1 || slopes == channels,
              "prelu: weight has {} slopes but input {} has {} channels", slopes, x_in.describe(),
              channels);

  // Viewed as outer × C × inner; one shared slope makes the whole tensor one channel.
  int64_t outer = 1, c = 1, inner = x_in.numel();
  if (slopes != 1) {
    outer = x_in.size(0);
    c = channels;
    inner = outer * c == 0 ? 0 : x_in.numel() / (outer * c);
  }
  const Tensor x = as_contiguous(x_in);
  const Tensor w = as_contiguous(weight_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    prelu_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), w.data<scalar_t>(), outer, c,
                  inner);
  });
  autograd::record(
      op, {x_in, weight_in}, {y},
      [x, w, outer, c, inner](const autograd::TensorList& g, const std::vector<bool>& need) {
        const Tensor go = as_contiguous(g[0]);
        Tensor dx, dw;
        if (need[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
        if (need[1]) dw = Tensor::empty(w.shape(), w.dtype(), w.device());
        RTSEG_DISPATCH_KERNELS(x, "prelu", [&](const auto& exec) {
          // Scratch for the slope gradient's partial sums (CUDA's).
          const Workspace ws(prelu_workspace_size(exec, outer, c, inner), DType::F64, x.device());
          prelu_backward(exec, dx.defined() ? dx.data<scalar_t>() : nullptr,
                         dw.defined() ? dw.data<scalar_t>() : nullptr, go.data<scalar_t>(),
                         x.data<scalar_t>(), w.data<scalar_t>(), outer, c, inner, ws.as<double>());
        });
        return autograd::TensorList{dx, dw};
      });
  return y;
}

}  // namespace rtseg
