#include "core/ops/resize.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/resize.h"
#include "kernels/cuda/resize.h"

namespace rtseg {

namespace {

cpu::ResizeGeometry resize_geometry(const char* op, const Tensor& x, int64_t out_h, int64_t out_w) {
  check::floating(op, x, "input");
  check::rank(op, x, 4, "input (N×C×H×W)");
  RTSEG_CHECK(out_h > 0 && out_w > 0, "{}: output size must be positive, got {}×{}", op, out_h,
              out_w);
  RTSEG_CHECK(x.size(2) > 0 && x.size(3) > 0, "{}: input has an empty spatial size: {}", op,
              x.describe());
  cpu::ResizeGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.out_h = out_h;
  g.out_w = out_w;
  return g;
}

enum class ResizeMode { BilinearAlignCorners, BilinearHalfPixel, Nearest };

// The backward never needs the input values, only the geometry (both resizes are linear).
Tensor resize_impl(const char* op, ResizeMode mode, const Tensor& x_in, int64_t out_h,
                   int64_t out_w) {
  const cpu::ResizeGeometry g = resize_geometry(op, x_in, out_h, out_w);
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  const bool ac = mode == ResizeMode::BilinearAlignCorners;
  RTSEG_DISPATCH_KERNELS(x, op, [&](const auto& exec) {
    if (mode == ResizeMode::Nearest) {
      nearest_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), g);
    } else {
      bilinear_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), g, ac);
    }
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [op, mode, g, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor gy = as_contiguous(grads[0]);
        Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
        RTSEG_DISPATCH_KERNELS(gy, op, [&](const auto& exec) {
          if (mode == ResizeMode::Nearest) {
            nearest_backward(exec, gx.data<scalar_t>(), gy.data<scalar_t>(), g);
          } else {
            bilinear_backward(exec, gx.data<scalar_t>(), gy.data<scalar_t>(), g,
                              mode == ResizeMode::BilinearAlignCorners);
          }
        });
        return autograd::TensorList{gx};
      });
  return y;
}

}  // namespace

Tensor interpolate_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return resize_impl(
      "interpolate_bilinear",
      align_corners ? ResizeMode::BilinearAlignCorners : ResizeMode::BilinearHalfPixel, x, out_h,
      out_w);
}

Tensor interpolate_nearest(const Tensor& x, int64_t out_h, int64_t out_w) {
  return resize_impl("interpolate_nearest", ResizeMode::Nearest, x, out_h, out_w);
}

}  // namespace rtseg
