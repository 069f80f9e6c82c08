#include "core/ops/pool.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/pool.h"
#include "kernels/pool_geometry.h"

namespace rtseg {

namespace {

void check_image(const char* op, const Tensor& x) {
  check::floating(op, x, "input");
  check::rank(op, x, 4, "input");
}

// Validates the parameters with PyTorch's rules and works out the output size.
Pool2dGeometry pool_geometry(const char* op, const Tensor& x, const Pool2dParams& p) {
  check_image(op, x);
  // An empty plane would leave windows with nothing to pool (and max pooling no argmax).
  RTSEG_CHECK(x.size(2) > 0 && x.size(3) > 0, "{}: input {} has an empty spatial dimension", op,
              x.describe());
  const char* axis[2] = {"height", "width"};
  for (int d = 0; d < 2; ++d) {
    RTSEG_CHECK(p.kernel[d] > 0, "{}: kernel {} must be positive, got {}", op, axis[d],
                p.kernel[d]);
    RTSEG_CHECK(p.stride[d] > 0, "{}: stride {} must be positive, got {}", op, axis[d],
                p.stride[d]);
    RTSEG_CHECK(p.padding[d] >= 0 && p.padding[d] <= p.kernel[d] / 2,
                "{}: padding {} must be between 0 and half the kernel size ({}), got {}", op,
                axis[d], p.kernel[d] / 2, p.padding[d]);
  }
  Pool2dGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.kernel_h = p.kernel[0];
  g.kernel_w = p.kernel[1];
  g.stride_h = p.stride[0];
  g.stride_w = p.stride[1];
  g.pad_h = p.padding[0];
  g.pad_w = p.padding[1];
  g.out_h = pool_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, p.ceil_mode);
  g.out_w = pool_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, p.ceil_mode);
  RTSEG_CHECK(g.out_h > 0 && g.out_w > 0,
              "{}: kernel {}×{} with padding {}×{} does not fit input {} (output would be {}×{})",
              op, g.kernel_h, g.kernel_w, g.pad_h, g.pad_w, x.describe(), g.out_h, g.out_w);
  return g;
}

Shape pooled_shape(const Tensor& x, int64_t out_h, int64_t out_w) {
  return {x.size(0), x.size(1), out_h, out_w};
}

}  // namespace

Tensor avg_pool2d(const Tensor& x_in, const Pool2dParams& p) {
  const char* op = "avg_pool2d";
  const Pool2dGeometry g = pool_geometry(op, x_in, p);
  const bool include_pad = p.count_include_pad;
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(pooled_shape(x, g.out_h, g.out_w), x.dtype(), x.device());
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    avg_pool2d_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), g, include_pad);
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [g, include_pad, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_KERNELS(go, "avg_pool2d", [&](const auto& exec) {
          avg_pool2d_backward(exec, gi.data<scalar_t>(), go.data<scalar_t>(), g, include_pad);
        });
        return autograd::TensorList{gi};
      });
  return y;
}

Tensor max_pool2d(const Tensor& x_in, const Pool2dParams& p) {
  const char* op = "max_pool2d";
  const Pool2dGeometry g = pool_geometry(op, x_in, p);
  const Tensor x = as_contiguous(x_in);
  const Shape out_shape = pooled_shape(x, g.out_h, g.out_w);
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  // Where the maxima are is kept only for a gradient.
  const Tensor argmax =
      autograd::should_record({x_in}) ? Tensor::empty(out_shape, DType::I64, x.device()) : Tensor();
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    max_pool2d_forward(exec, y.data<scalar_t>(),
                       argmax.defined() ? argmax.data<int64_t>() : nullptr, x.data<scalar_t>(), g);
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [g, argmax, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_KERNELS(go, "max_pool2d", [&](const auto& exec) {
          max_pool2d_backward(exec, gi.data<scalar_t>(), go.data<scalar_t>(),
                              argmax.data<int64_t>(), g);
        });
        return autograd::TensorList{gi};
      });
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x_in, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_image(op, x_in);
  RTSEG_CHECK(out_h > 0 && out_w > 0, "{}: output size must be positive, got {}×{}", op, out_h,
              out_w);
  const int64_t planes = x_in.size(0) * x_in.size(1), in_h = x_in.size(2), in_w = x_in.size(3);
  RTSEG_CHECK(in_h > 0 && in_w > 0, "{}: input {} has an empty spatial dimension", op,
              x_in.describe());
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(pooled_shape(x, out_h, out_w), x.dtype(), x.device());
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    adaptive_avg_pool2d_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), planes, in_h, in_w,
                                out_h, out_w);
  });
  const Shape in_shape = x.shape();
  autograd::record(op, {x_in}, {y},
                   [=](const autograd::TensorList& grads, const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
                     RTSEG_DISPATCH_KERNELS(go, "adaptive_avg_pool2d", [&](const auto& exec) {
                       adaptive_avg_pool2d_backward(exec, gi.data<scalar_t>(), go.data<scalar_t>(),
                                                    planes, in_h, in_w, out_h, out_w);
                     });
                     return autograd::TensorList{gi};
                   });
  return y;
}

Tensor channel_max(const Tensor& x_in) {
  const char* op = "channel_max";
  check_image(op, x_in);
  RTSEG_CHECK(x_in.size(1) > 0, "{}: input {} has no channels", op, x_in.describe());
  const int64_t n = x_in.size(0), c = x_in.size(1), s = x_in.size(2) * x_in.size(3);
  const Tensor x = as_contiguous(x_in);
  const Shape out_shape{n, 1, x.size(2), x.size(3)};
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const Tensor argmax =
      autograd::should_record({x_in}) ? Tensor::empty(out_shape, DType::I64, x.device()) : Tensor();
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    channel_max_forward(exec, y.data<scalar_t>(),
                        argmax.defined() ? argmax.data<int64_t>() : nullptr, x.data<scalar_t>(), n,
                        c, s);
  });
  const Shape in_shape = x.shape();
  autograd::record(op, {x_in}, {y},
                   [=](const autograd::TensorList& grads, const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
                     RTSEG_DISPATCH_KERNELS(go, "channel_max", [&](const auto& exec) {
                       channel_max_backward(exec, gi.data<scalar_t>(), go.data<scalar_t>(),
                                            argmax.data<int64_t>(), n, c, s);
                     });
                     return autograd::TensorList{gi};
                   });
  return y;
}

Tensor channel_mean(const Tensor& x_in) {
  const char* op = "channel_mean";
  check_image(op, x_in);
  RTSEG_CHECK(x_in.size(1) > 0, "{}: input {} has no channels", op, x_in.describe());
  const int64_t n = x_in.size(0), c = x_in.size(1), s = x_in.size(2) * x_in.size(3);
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty({n, 1, x.size(2), x.size(3)}, x.dtype(), x.device());
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    channel_mean_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), n, c, s);
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y}, [=](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_KERNELS(go, "channel_mean", [&](const auto& exec) {
          channel_mean_backward(exec, gi.data<scalar_t>(), go.data<scalar_t>(), n, c, s);
        });
        return autograd::TensorList{gi};
      });
  return y;
}

}  // namespace rtseg
