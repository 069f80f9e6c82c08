#include "core/ops/norm.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/elementwise.h"

namespace rtseg {

namespace {

// A per-channel parameter or statistic: undefined is allowed (`optional`), else it must be a
// C-vector of x's dtype and device.
void check_channel_vector(const Tensor& t, const char* name, const Tensor& x) {
  if (!t.defined()) return;
  check::compatible("batch_norm", x, "input", t, name);
  check::shape_is("batch_norm", t, {x.size(1)}, name);
}

// Writes the batch statistics into the running buffers in place. The buffers may be views; the
// kernel works on contiguous copies when they are not, which are then copied back.
void update_running_stats(const Tensor& running_mean, const Tensor& running_var, const Tensor& mean,
                          const Tensor& var, int64_t count, double momentum) {
  Tensor rm = as_contiguous(running_mean), rv = as_contiguous(running_var);
  RTSEG_DISPATCH_FLOATING(mean.dtype(), "batch_norm", [&] {
    cpu::batch_norm_update_running(rm.data<scalar_t>(), rv.data<scalar_t>(), mean.data<scalar_t>(),
                                   var.data<scalar_t>(), mean.numel(), count, momentum);
  });
  if (!running_mean.is_contiguous()) running_mean.copy_from(rm);
  if (!running_var.is_contiguous()) running_var.copy_from(rv);
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  const char* op = "batch_norm";
  check::floating(op, x_in, "input");
  RTSEG_CHECK(x_in.dim() >= 2, "batch_norm: input must be N×C or N×C×H×W, got {}", x_in.describe());
  check::cpu_kernel(op, x_in);
  check_channel_vector(weight, "weight", x_in);
  check_channel_vector(bias, "bias", x_in);
  check_channel_vector(running_mean, "running_mean", x_in);
  check_channel_vector(running_var, "running_var", x_in);
  RTSEG_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must both be defined or both undefined");
  RTSEG_CHECK(training || running_mean.defined(),
              "batch_norm: running_mean and running_var are needed in eval mode");
  RTSEG_CHECK(eps >= 0.0, "batch_norm: eps must be non-negative, got {}", eps);

  const int64_t n = x_in.size(0), c = x_in.size(1);
  const int64_t s = c == 0 || n == 0 ? 0 : x_in.numel() / (n * c);
  const int64_t count = n * s;  // values per channel
  // As PyTorch: the variance of a single value is meaningless (and the unbiased one divides by 0).
  RTSEG_CHECK(!training || count > 1,
              "batch_norm: expected more than 1 value per channel when training, got input {}",
              x_in.describe());

  const Tensor x = as_contiguous(x_in);
  const Tensor w = weight.defined() ? as_contiguous(weight) : Tensor();
  const Tensor b = bias.defined() ? as_contiguous(bias) : Tensor();
  Tensor mean, var;
  if (training) {
    mean = Tensor::empty({c}, x.dtype(), x.device());
    var = Tensor::empty({c}, x.dtype(), x.device());
    RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
      cpu::batch_norm_stats(mean.data<scalar_t>(), var.data<scalar_t>(), x.data<scalar_t>(), n, c,
                            s);
    });
    if (running_mean.defined()) {
      update_running_stats(running_mean, running_var, mean, var, count, momentum);
    }
  } else {
    // Copies: the running buffers change in place on later training steps, while this call's
    // backward must see the values it normalised with.
    mean = running_mean.clone();
    var = running_var.clone();
  }

  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor invstd = Tensor::empty({c}, x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::batch_norm_forward(y.data<scalar_t>(), invstd.data<scalar_t>(), x.data<scalar_t>(),
                            mean.data<scalar_t>(), var.data<scalar_t>(),
                            w.defined() ? w.data<scalar_t>() : nullptr,
                            b.defined() ? b.data<scalar_t>() : nullptr, n, c, s, eps);
  });

  autograd::record(op, {x_in, weight, bias}, {y},
                   [x, w, mean, invstd, training, n, c, s](const autograd::TensorList& g,
                                                           const std::vector<bool>& need) {
                     const Tensor go = as_contiguous(g[0]);
                     Tensor dx, dw, db;
                     if (need[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
                     if (need[1]) dw = Tensor::empty({c}, x.dtype(), x.device());
                     if (need[2]) db = Tensor::empty({c}, x.dtype(), x.device());
                     RTSEG_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
                       cpu::batch_norm_backward(
                           dx.defined() ? dx.data<scalar_t>() : nullptr,
                           dw.defined() ? dw.data<scalar_t>() : nullptr,
                           db.defined() ? db.data<scalar_t>() : nullptr, go.data<scalar_t>(),
                           x.data<scalar_t>(), mean.data<scalar_t>(), invstd.data<scalar_t>(),
                           w.defined() ? w.data<scalar_t>() : nullptr, n, c, s, training);
                     });
                     return autograd::TensorList{dx, dw, db};
                   });
  return y;
}

Tensor dropout(const Tensor& x_in, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check::floating(op, x_in, "input");
  RTSEG_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x_in;
  check::cpu_kernel(op, x_in);

  // One uniform draw per element in row-major order, so a seed fixes the mask whatever the
  // input's strides. A survivor carries the 1/(1 − p) scale in the mask itself; with p = 1
  // nothing survives and the scale is never needed.
  const int64_t numel = x_in.numel();
  Tensor mask = Tensor::empty(x_in.shape(), x_in.dtype(), Device::cpu());
  RTSEG_DISPATCH_FLOATING(x_in.dtype(), op, [&] {
    scalar_t* m = mask.data<scalar_t>();
    const scalar_t keep = p < 1.0 ? static_cast<scalar_t>(1.0 / (1.0 - p)) : scalar_t(0);
    for (int64_t i = 0; i < numel; ++i) m[i] = gen.uniform() >= p ? keep : scalar_t(0);
  });

  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  auto apply_mask = [numel](const Tensor& out, const Tensor& in, const Tensor& m) {
    RTSEG_DISPATCH_FLOATING(in.dtype(), "dropout", [&] {
      cpu::broadcast_binary(out.data<scalar_t>(), in.data<scalar_t>(), m.data<scalar_t>(), {numel},
                            {1}, {1}, [](scalar_t u, scalar_t v) { return u * v; });
    });
  };
  apply_mask(y, x, mask);
  autograd::record(op, {x_in}, {y},
                   [mask, apply_mask](const autograd::TensorList& g, const std::vector<bool>&) {
                     const Tensor go = as_contiguous(g[0]);
                     Tensor gi = Tensor::empty(go.shape(), go.dtype(), go.device());
                     apply_mask(gi, go, mask);
                     return autograd::TensorList{gi};
                   });
  return y;
}

}  // namespace rtseg
