#include "core/ops/resize.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/resize.h"

namespace rtseg {

namespace {

cpu::ResizeGeometry resize_geometry(const char* op, const Tensor& x, int64_t out_h, int64_t out_w) {
  check::floating(op, x, "input");
  check::rank(op, x, 4, "input (N×C×H×W)");
  check::cpu_kernel(op, x);
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

// forward(out, in, g) and backward(grad_in, grad_out, g) are the kernels for scalar_t; the
// backward never needs the input values, only the geometry (the op is linear).
template <typename Forward, typename Backward>
Tensor resize_impl(const char* op, const Tensor& x_in, int64_t out_h, int64_t out_w,
                   Forward forward, Backward backward) {
  const cpu::ResizeGeometry g = resize_geometry(op, x_in, out_h, out_w);
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op,
                          [&] { forward(y.data<scalar_t>(), x.data<scalar_t>(), g); });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [op, g, in_shape, backward](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor gy = as_contiguous(grads[0]);
        Tensor gx = Tensor::zeros(in_shape, gy.dtype(), gy.device());
        RTSEG_DISPATCH_FLOATING(gy.dtype(), op,
                                [&] { backward(gx.data<scalar_t>(), gy.data<scalar_t>(), g); });
        return autograd::TensorList{gx};
      });
  return y;
}

}  // namespace

Tensor interpolate_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return resize_impl(
      "interpolate_bilinear", x, out_h, out_w,
      [align_corners](auto* out, const auto* in, const cpu::ResizeGeometry& g) {
        cpu::bilinear_forward(out, in, g, align_corners);
      },
      [align_corners](auto* grad_in, const auto* grad_out, const cpu::ResizeGeometry& g) {
        cpu::bilinear_backward(grad_in, grad_out, g, align_corners);
      });
}

Tensor interpolate_nearest(const Tensor& x, int64_t out_h, int64_t out_w) {
  return resize_impl(
      "interpolate_nearest", x, out_h, out_w,
      [](auto* out, const auto* in, const cpu::ResizeGeometry& g) {
        cpu::nearest_forward(out, in, g);
      },
      [](auto* grad_in, const auto* grad_out, const cpu::ResizeGeometry& g) {
        cpu::nearest_backward(grad_in, grad_out, g);
      });
}

}  // namespace rtseg
