#include "core/ops/norm.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu_fast/batch_norm.h"
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/dropout.h"

namespace rtseg {

namespace {

// A per-channel parameter or statistic: undefined is allowed (`optional`), else it must be a
// C-vector of x's dtype and device.
void check_channel_vector(const Tensor& t, const char* name, const Tensor& x) {
  if (!t.defined()) return;
  check::compatible("batch_norm", x, "input", t, name);
  check::shape_is("batch_norm", t, {x.size(1)}, name);
}

template <typename T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Writes the batch statistics into the running buffers in place, on their device (no host
// synchronisation). The buffers may be views; the kernel works on contiguous copies when they
// are not, which are then copied back.
void update_running_stats(const Tensor& running_mean, const Tensor& running_var, const Tensor& mean,
                          const Tensor& var, int64_t count, double momentum) {
  Tensor rm = as_contiguous(running_mean), rv = as_contiguous(running_var);
  RTSEG_DISPATCH_KERNELS(mean, "batch_norm", [&](const auto& exec) {
    batch_norm_update_running(exec, rm.data<scalar_t>(), rv.data<scalar_t>(), mean.data<scalar_t>(),
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
              "batch_norm: training needs more than 1 value per channel, but input {} (batch {}, "
              "{} value{} "
              "per channel and image{}) gives {}: train with a batch of 2 or more",
              x_in.describe(), n, s, s == 1 ? "" : "s",
              s == 1 ? ", e.g. a globally pooled 1×1 feature map" : "", count);

  const Tensor x = as_contiguous(x_in);
  const Tensor w = weight.defined() ? as_contiguous(weight) : Tensor();
  const Tensor b = bias.defined() ? as_contiguous(bias) : Tensor();
  const Device device = x.device();
  Tensor mean, var;
  if (training) {
    mean = Tensor::empty({c}, x.dtype(), device);
    var = Tensor::empty({c}, x.dtype(), device);
    RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
      const Workspace ws(batch_norm_workspace_size(exec, n, c, s), DType::F64, device);
      batch_norm_stats(exec, mean.data<scalar_t>(), var.data<scalar_t>(), x.data<scalar_t>(), n, c,
                       s, ws.as<double>());
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

  Tensor y = Tensor::empty(x.shape(), x.dtype(), device);
  Tensor invstd = Tensor::empty({c}, x.dtype(), device);
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    batch_norm_forward(exec, y.data<scalar_t>(), invstd.data<scalar_t>(), x.data<scalar_t>(),
                       mean.data<scalar_t>(), var.data<scalar_t>(), data_or_null<scalar_t>(w),
                       data_or_null<scalar_t>(b), n, c, s, eps);
  });

  autograd::record(
      op, {x_in, weight, bias}, {y},
      [x, w, mean, invstd, training, n, c, s](const autograd::TensorList& g,
                                              const std::vector<bool>& need) {
        const Tensor go = as_contiguous(g[0]);
        const Device dev = x.device();
        Tensor dx, dw, db;
        if (need[0]) dx = Tensor::empty(x.shape(), x.dtype(), dev);
        if (need[1]) dw = Tensor::empty({c}, x.dtype(), dev);
        if (need[2]) db = Tensor::empty({c}, x.dtype(), dev);
        RTSEG_DISPATCH_KERNELS(x, "batch_norm", [&](const auto& exec) {
          const Workspace ws(batch_norm_workspace_size(exec, n, c, s), DType::F64, dev);
          batch_norm_backward(exec, data_or_null<scalar_t>(dx), data_or_null<scalar_t>(dw),
                              data_or_null<scalar_t>(db), go.data<scalar_t>(), x.data<scalar_t>(),
                              mean.data<scalar_t>(), invstd.data<scalar_t>(),
                              data_or_null<scalar_t>(w), n, c, s, training, ws.as<double>());
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

  // One uniform draw per element in row-major order, so a seed fixes the mask whatever the
  // input's strides. For CUDA tensors too the mask is drawn here, on the host, and uploaded (one
  // byte per element): the Generator is a host object whose sequence defines the mask, so the
  // same seed gives the same mask on every device, and a run can move between CPU and GPU without
  // changing its randomness. The upload is ordered on the device's stream (from pageable memory
  // the call returns once the bytes are staged; it does not wait for the GPU's queued work).
  const int64_t numel = x_in.numel();
  Tensor keep = Tensor::empty(x_in.shape(), DType::U8, Device::cpu());
  uint8_t* k = keep.data<uint8_t>();
  for (int64_t i = 0; i < numel; ++i) k[i] = gen.uniform() >= p ? 1 : 0;
  keep = keep.to(x_in.device());
  // Survivors are scaled by 1/(1 − p); with p = 1 nothing survives and the scale is never used.
  const double scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;

  auto apply_mask = [numel, scale](const Tensor& out, const Tensor& in, const Tensor& mask) {
    RTSEG_DISPATCH_KERNELS(in, "dropout", [&](const auto& exec) {
      dropout_apply(exec, out.data<scalar_t>(), in.data<scalar_t>(), mask.data<uint8_t>(),
                    static_cast<scalar_t>(scale), numel);
    });
  };
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  apply_mask(y, x, keep);
  autograd::record(op, {x_in}, {y},
                   [keep, apply_mask](const autograd::TensorList& g, const std::vector<bool>&) {
                     const Tensor go = as_contiguous(g[0]);
                     Tensor gi = Tensor::empty(go.shape(), go.dtype(), go.device());
                     apply_mask(gi, go, keep);
                     return autograd::TensorList{gi};
                   });
  return y;
}

}  // namespace rtseg
