// The one body of every pointwise op (kernels/unary_element.h): checks, one dispatch on (device,
// dtype) to the CPU loop or the CUDA kernel of the same Op, and an autograd node that keeps only
// what Op's derivative reads (detached: a node never holds its own outputs' history). Internal to
// core/ops.
#pragma once

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/unary_element.h"

namespace rtseg::detail {

// y = Op(x) into the contiguous `y` shaped like the contiguous `x`.
template <typename Op>
void run_unary(double param, const Tensor& y, const Tensor& x) {
  RTSEG_DISPATCH_KERNELS(x, Op::kName, [&](const auto& exec) {
    unary_forward(exec, Op{}, static_cast<scalar_t>(param), y.data<scalar_t>(), x.data<scalar_t>(),
                  x.numel());
  });
}

// The input gradient from the contiguous `go`; `x` / `y` are undefined where Op does not read them.
template <typename Op>
Tensor run_unary_backward(double param, const Tensor& x, const Tensor& y, const Tensor& go) {
  Tensor gi = Tensor::empty(go.shape(), go.dtype(), go.device());
  RTSEG_DISPATCH_KERNELS(go, Op::kName, [&](const auto& exec) {
    unary_backward(exec, Op{}, static_cast<scalar_t>(param), gi.data<scalar_t>(),
                   x.defined() ? x.data<scalar_t>() : nullptr,
                   y.defined() ? y.data<scalar_t>() : nullptr, go.data<scalar_t>(), go.numel());
  });
  return gi;
}

template <typename Op>
Tensor pointwise(const Tensor& x_in, double param = 0.0) {
  check::floating(Op::kName, x_in, "input");
  const Tensor x = as_contiguous(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary<Op>(param, y, x);
  if (autograd::should_record({x_in})) {
    const Tensor x_saved = autograd::save_for_backward(x, Op::kReadsInput);
    const Tensor y_saved = autograd::save_for_backward(y, Op::kReadsOutput);
    autograd::record(
        Op::kName, {x_in}, {y},
        [param, x_saved, y_saved](const autograd::TensorList& g, const std::vector<bool>&) {
          return autograd::TensorList{
              run_unary_backward<Op>(param, x_saved, y_saved, as_contiguous(g[0]))};
        });
  }
  return y;
}

}  // namespace rtseg::detail
