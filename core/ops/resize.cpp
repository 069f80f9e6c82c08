#include "core/ops/resize.h"

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
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

template <typename T>
void resize_forward(const char* op, ResizeMode mode, T* out, const T* in,
                    const cpu::ResizeGeometry& g, Device device) {
  const bool ac = mode == ResizeMode::BilinearAlignCorners;
  if (device.is_cpu()) {
    // Planes are independent: the fast backend runs chunks of them in parallel.
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, g.out_h * g.out_w));
    for_cpu_ranges(backend_for(device, dtype_of<T>::value), g.planes, grain,
                   [&](int64_t p0, int64_t p1) {
                     cpu::ResizeGeometry part = g;
                     part.planes = p1 - p0;
                     T* o = out + p0 * g.out_h * g.out_w;
                     const T* i = in + p0 * g.in_h * g.in_w;
                     if (mode == ResizeMode::Nearest) {
                       cpu::nearest_forward(o, i, part);
                     } else {
                       cpu::bilinear_forward(o, i, part, ac);
                     }
                   });
  } else {
    RTSEG_CUDA_ONLY(op,
                    mode == ResizeMode::Nearest
                        ? cuda::nearest_forward(out, in, g, cuda::stream_of(device.index))
                        : cuda::bilinear_forward(out, in, g, ac, cuda::stream_of(device.index)));
  }
}

// The CPU backward scatters into a zeroed gradient; the CUDA one gathers and writes every
// element, so it starts from an uninitialised one.
template <typename T>
void resize_backward(const char* op, ResizeMode mode, const Tensor& grad_in, const T* grad_out,
                     const cpu::ResizeGeometry& g) {
  const Device device = grad_in.device();
  const bool ac = mode == ResizeMode::BilinearAlignCorners;
  T* gi = grad_in.data<T>();
  if (device.is_cpu()) {
    grad_in.fill(0.0);
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, g.out_h * g.out_w));
    for_cpu_ranges(backend_for(device, grad_in.dtype()), g.planes, grain,
                   [&](int64_t p0, int64_t p1) {
                     cpu::ResizeGeometry part = g;
                     part.planes = p1 - p0;
                     T* i = gi + p0 * g.in_h * g.in_w;
                     const T* o = grad_out + p0 * g.out_h * g.out_w;
                     if (mode == ResizeMode::Nearest) {
                       cpu::nearest_backward(i, o, part);
                     } else {
                       cpu::bilinear_backward(i, o, part, ac);
                     }
                   });
  } else {
    RTSEG_CUDA_ONLY(
        op, mode == ResizeMode::Nearest
                ? cuda::nearest_backward(gi, grad_out, g, cuda::stream_of(device.index))
                : cuda::bilinear_backward(gi, grad_out, g, ac, cuda::stream_of(device.index)));
  }
}

// The backward never needs the input values, only the geometry (both resizes are linear).
Tensor resize_impl(const char* op, ResizeMode mode, const Tensor& x_in, int64_t out_h,
                   int64_t out_w) {
  const cpu::ResizeGeometry g = resize_geometry(op, x_in, out_h, out_w);
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    resize_forward(op, mode, y.data<scalar_t>(), x.data<scalar_t>(), g, x.device());
  });
  const Shape in_shape = x.shape();
  autograd::record(
      op, {x_in}, {y},
      [op, mode, g, in_shape](const autograd::TensorList& grads, const std::vector<bool>&) {
        const Tensor gy = as_contiguous(grads[0]);
        Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
        RTSEG_DISPATCH_FLOATING(gy.dtype(), op,
                                [&] { resize_backward(op, mode, gx, gy.data<scalar_t>(), g); });
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
