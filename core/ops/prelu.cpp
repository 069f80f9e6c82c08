// prelu is declared with the other activations (core/ops/activation.h); it lives in its own file
// because, unlike them, it has a learnable per-channel parameter and its own kernels.
#include "kernels/cpu/prelu.h"

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
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
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      // Rows of (image, channel) are independent: chunks of them in parallel on the fast backend.
      const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, inner));
      for_cpu_ranges(
          backend_for(x.device(), x.dtype()), outer * c, grain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1;) {  // runs of channels within one image
              const int64_t k = r % c, run = std::min(r1 - r, c - k);
              cpu::prelu_forward(y.data<scalar_t>() + r * inner, x.data<scalar_t>() + r * inner,
                                 w.data<scalar_t>() + k, 1, run, inner);
              r += run;
            }
          });
    } else {
      RTSEG_CUDA_ONLY(
          op, cuda::prelu_forward(y.data<scalar_t>(), x.data<scalar_t>(), w.data<scalar_t>(), outer,
                                  c, inner, cuda::stream_of(x.device().index)));
    }
  });
  autograd::record(
      op, {x_in, weight_in}, {y},
      [x, w, outer, c, inner](const autograd::TensorList& g, const std::vector<bool>& need) {
        const Tensor go = as_contiguous(g[0]);
        Tensor dx, dw;
        if (need[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
        if (need[1]) dw = Tensor::empty(w.shape(), w.dtype(), w.device());
        RTSEG_DISPATCH_FLOATING(x.dtype(), "prelu", [&] {
          scalar_t* dx_ptr = dx.defined() ? dx.data<scalar_t>() : nullptr;
          scalar_t* dw_ptr = dw.defined() ? dw.data<scalar_t>() : nullptr;
          if (x.device().is_cpu()) {
            cpu::prelu_backward(dx_ptr, dw_ptr, go.data<scalar_t>(), x.data<scalar_t>(),
                                w.data<scalar_t>(), outer, c, inner);
          } else {
            RTSEG_CUDA_ONLY("prelu", {
              // Scratch for the slope gradient's partial sums, from the caching allocator.
              const Tensor ws = Tensor::empty({cuda::prelu_workspace_size(outer, c, inner)},
                                              DType::F64, x.device());
              cuda::prelu_backward(dx_ptr, dw_ptr, go.data<scalar_t>(), x.data<scalar_t>(),
                                   w.data<scalar_t>(), outer, c, inner, ws.data<double>(),
                                   cuda::stream_of(x.device().index));
            });
          }
        });
        return autograd::TensorList{dx, dw};
      });
  return y;
}

}  // namespace rtseg
