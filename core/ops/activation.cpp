#include "core/ops/activation.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"

namespace rtseg {

namespace {

// A pointwise op y = f(x) with dy/dx = df(x, y): the backward keeps x and the (detached) output.
// `kind` and `param` name the same function for the CUDA kernels.
template <typename F, typename DF>
Tensor pointwise(const char* op, cuda::UnaryOp kind, double param, const Tensor& x_in, F f, DF df) {
  check::floating(op, x_in, "input");
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    if (x.device().is_cpu()) {
      cpu::unary(y.data<scalar_t>(), x.data<scalar_t>(), x.numel(),
                 [&](scalar_t v) { return f(v); });
    } else {
      RTSEG_CUDA_ONLY(op, cuda::unary(kind, param, y.data<scalar_t>(), x.data<scalar_t>(),
                                      x.numel(), cuda::stream_of(x.device().index)));
    }
  });
  const Tensor y_saved = y.detach();
  autograd::record(
      op, {x_in}, {y},
      [op, kind, param, x, y_saved, df](const autograd::TensorList& g, const std::vector<bool>&) {
        const Tensor go = as_contiguous(g[0]);
        Tensor gi = Tensor::empty(x.shape(), x.dtype(), x.device());
        RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
          if (x.device().is_cpu()) {
            cpu::unary_backward(
                gi.data<scalar_t>(), x.data<scalar_t>(), y_saved.data<scalar_t>(),
                go.data<scalar_t>(), x.numel(),
                [&](scalar_t xv, scalar_t yv, scalar_t gv) { return df(xv, yv, gv); });
          } else {
            RTSEG_CUDA_ONLY(
                op, cuda::unary_backward(kind, param, gi.data<scalar_t>(), x.data<scalar_t>(),
                                         y_saved.data<scalar_t>(), go.data<scalar_t>(), x.numel(),
                                         cuda::stream_of(x.device().index)));
          }
        });
        return autograd::TensorList{gi};
      });
  return y;
}

}  // namespace

Tensor relu(const Tensor& x) {
  return pointwise(
      "relu", cuda::UnaryOp::Relu, 0.0, x, [](auto v) { return v > 0 ? v : decltype(v)(0); },
      [](auto xv, auto, auto g) { return xv > 0 ? g : decltype(g)(0); });
}

Tensor relu6(const Tensor& x) {
  return pointwise(
      "relu6", cuda::UnaryOp::Relu6, 0.0, x,
      [](auto v) { return std::min(std::max(v, decltype(v)(0)), decltype(v)(6)); },
      [](auto xv, auto, auto g) { return (xv > 0 && xv < 6) ? g : decltype(g)(0); });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return pointwise(
      "leaky_relu", cuda::UnaryOp::LeakyRelu, negative_slope, x,
      [negative_slope](auto v) { return v > 0 ? v : static_cast<decltype(v)>(v * negative_slope); },
      [negative_slope](auto xv, auto, auto g) {
        return xv > 0 ? g : static_cast<decltype(g)>(g * negative_slope);
      });
}

Tensor sigmoid(const Tensor& x) {
  return pointwise(
      "sigmoid", cuda::UnaryOp::Sigmoid, 0.0, x,
      [](auto v) {
        using T = decltype(v);
        // Split by sign so exp never overflows.
        if (v >= 0) return T(1) / (T(1) + std::exp(-v));
        const T e = std::exp(v);
        return e / (T(1) + e);
      },
      [](auto, auto yv, auto g) { return g * yv * (decltype(yv)(1) - yv); });
}

Tensor tanh(const Tensor& x) {
  return pointwise(
      "tanh", cuda::UnaryOp::Tanh, 0.0, x, [](auto v) { return std::tanh(v); },
      [](auto, auto yv, auto g) { return g * (decltype(yv)(1) - yv * yv); });
}

}  // namespace rtseg
