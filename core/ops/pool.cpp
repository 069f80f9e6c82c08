#include "core/ops/pool.h"

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
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

// The planes [p0, p1) of a CPU pooling call: all at once on the reference backend, in parallel
// chunks on the fast one (planes are independent, so the results are the same).
void for_plane_ranges(const Tensor& x, int64_t planes,
                      const std::function<void(int64_t, int64_t)>& body) {
  const int64_t plane = x.dim() >= 2 ? x.numel() / std::max<int64_t>(1, planes) : 1;
  for_cpu_ranges(backend_for(x.device(), x.dtype()), planes,
                 std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, plane)), body);
}

Pool2dGeometry planes_of(Pool2dGeometry g, int64_t planes) {
  g.planes = planes;
  return g;
}

}  // namespace

Tensor avg_pool2d(const Tensor& x_in, const Pool2dParams& p) {
  const char* op = "avg_pool2d";
  const Pool2dGeometry g = pool_geometry(op, x_in, p);
  const bool include_pad = p.count_include_pad;
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(pooled_shape(x, g.out_h, g.out_w), x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      for_plane_ranges(x, g.planes, [&](int64_t p0, int64_t p1) {
        cpu::avg_pool2d_forward(y.data<scalar_t>() + p0 * g.out_h * g.out_w,
                                x.data<scalar_t>() + p0 * g.in_h * g.in_w, planes_of(g, p1 - p0),
                                include_pad);
      });
    } else {
      RTSEG_CUDA_ONLY(op, cuda::avg_pool2d_forward(y.data<scalar_t>(), x.data<scalar_t>(), g,
                                                   include_pad, cuda::stream_of(x.device().index)));
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [g, include_pad, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_FLOATING(go.dtype(), "avg_pool2d", [&] {
          if (go.device().is_cpu()) {
            cpu::avg_pool2d_backward(gi.data<scalar_t>(), go.data<scalar_t>(), g, include_pad);
          } else {
            RTSEG_CUDA_ONLY("avg_pool2d", cuda::avg_pool2d_backward(
                                              gi.data<scalar_t>(), go.data<scalar_t>(), g,
                                              include_pad, cuda::stream_of(go.device().index)));
          }
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
  Tensor argmax = Tensor::empty(out_shape, DType::I64, x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      // argmax holds indices within each plane, so planes split freely.
      for_plane_ranges(x, g.planes, [&](int64_t p0, int64_t p1) {
        const int64_t out = p0 * g.out_h * g.out_w;
        cpu::max_pool2d_forward(y.data<scalar_t>() + out, argmax.data<int64_t>() + out,
                                x.data<scalar_t>() + p0 * g.in_h * g.in_w, planes_of(g, p1 - p0));
      });
    } else {
      RTSEG_CUDA_ONLY(
          op, cuda::max_pool2d_forward(y.data<scalar_t>(), argmax.data<int64_t>(),
                                       x.data<scalar_t>(), g, cuda::stream_of(x.device().index)));
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [g, argmax, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_FLOATING(go.dtype(), "max_pool2d", [&] {
          if (go.device().is_cpu()) {
            cpu::scatter_to_argmax(gi.data<scalar_t>(), go.data<scalar_t>(), argmax.data<int64_t>(),
                                   g.planes, g.in_h * g.in_w, g.out_h * g.out_w);
          } else {
            RTSEG_CUDA_ONLY("max_pool2d",
                            cuda::max_pool2d_backward(gi.data<scalar_t>(), go.data<scalar_t>(),
                                                      argmax.data<int64_t>(), g,
                                                      cuda::stream_of(go.device().index)));
          }
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
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      for_plane_ranges(x, planes, [&](int64_t p0, int64_t p1) {
        cpu::adaptive_avg_pool2d_forward(y.data<scalar_t>() + p0 * out_h * out_w,
                                         x.data<scalar_t>() + p0 * in_h * in_w, p1 - p0, in_h, in_w,
                                         out_h, out_w);
      });
    } else {
      RTSEG_CUDA_ONLY(op, cuda::adaptive_avg_pool2d_forward(y.data<scalar_t>(), x.data<scalar_t>(),
                                                            planes, in_h, in_w, out_h, out_w,
                                                            cuda::stream_of(x.device().index)));
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y}, [=](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_FLOATING(go.dtype(), "adaptive_avg_pool2d", [&] {
          if (go.device().is_cpu()) {
            cpu::adaptive_avg_pool2d_backward(gi.data<scalar_t>(), go.data<scalar_t>(), planes,
                                              in_h, in_w, out_h, out_w);
          } else {
            RTSEG_CUDA_ONLY("adaptive_avg_pool2d",
                            cuda::adaptive_avg_pool2d_backward(
                                gi.data<scalar_t>(), go.data<scalar_t>(), planes, in_h, in_w, out_h,
                                out_w, cuda::stream_of(go.device().index)));
          }
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
  Tensor argmax = Tensor::empty(out_shape, DType::I64, x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      cpu::channel_max_forward(y.data<scalar_t>(), argmax.data<int64_t>(), x.data<scalar_t>(), n, c,
                               s);
    } else {
      RTSEG_CUDA_ONLY(op, cuda::channel_max_forward(y.data<scalar_t>(), argmax.data<int64_t>(),
                                                    x.data<scalar_t>(), n, c, s,
                                                    cuda::stream_of(x.device().index)));
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y}, [=](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_FLOATING(go.dtype(), "channel_max", [&] {
          if (go.device().is_cpu()) {
            cpu::scatter_to_argmax(gi.data<scalar_t>(), go.data<scalar_t>(), argmax.data<int64_t>(),
                                   n, c * s, s);
          } else {
            RTSEG_CUDA_ONLY("channel_max",
                            cuda::channel_max_backward(gi.data<scalar_t>(), go.data<scalar_t>(),
                                                       argmax.data<int64_t>(), n, c, s,
                                                       cuda::stream_of(go.device().index)));
          }
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
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      cpu::channel_mean_forward(y.data<scalar_t>(), x.data<scalar_t>(), n, c, s);
    } else {
      RTSEG_CUDA_ONLY(op, cuda::channel_mean_forward(y.data<scalar_t>(), x.data<scalar_t>(), n, c,
                                                     s, cuda::stream_of(x.device().index)));
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y}, [=](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gi = Tensor::empty(in_shape, go.dtype(), go.device());
        RTSEG_DISPATCH_FLOATING(go.dtype(), "channel_mean", [&] {
          if (go.device().is_cpu()) {
            cpu::channel_mean_backward(gi.data<scalar_t>(), go.data<scalar_t>(), n, c, s);
          } else {
            RTSEG_CUDA_ONLY("channel_mean",
                            cuda::channel_mean_backward(gi.data<scalar_t>(), go.data<scalar_t>(), n,
                                                        c, s, cuda::stream_of(go.device().index)));
          }
        });
        return autograd::TensorList{gi};
      });
  return y;
}

}  // namespace rtseg
