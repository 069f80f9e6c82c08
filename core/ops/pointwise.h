// The one body of every pointwise op (kernels/unary_element.h): checks, one dispatch on (device,
// dtype) to the CPU loop or the CUDA kernel of the same Op, and an autograd node that keeps only
// what Op's derivative reads (detached: a node never holds its own outputs' history). Internal to
// core/ops.
#pragma once

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu_fast/strided_loops.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/unary_element.h"

namespace rtseg::detail {

// y = Op(x) into the contiguous `y` shaped like the contiguous `x`.
template <typename Op>
void run_unary(double param, const Tensor& y, const Tensor& x) {
  RTSEG_DISPATCH_FLOATING(x.dtype(), Op::kName, [&] {
    const auto p = static_cast<scalar_t>(param);
    scalar_t* yp = y.data<scalar_t>();
    const scalar_t* xp = x.data<scalar_t>();
    const Backend backend = backend_for(x.device(), x.dtype());
    if (backend == Backend::CpuReference) {
      cpu::unary<Op>(p, yp, xp, x.numel());
    } else if (backend == Backend::CpuFast) {  // the same loop, on the pool
      RTSEG_CPU_FAST_ONLY(Op::kName,
                          cpu_fast::parallel_elements(x.numel(), [&](int64_t b, int64_t e) {
                            cpu::unary<Op>(p, yp + b, xp + b, e - b);
                          }));
    } else {
      RTSEG_CUDA_ONLY(Op::kName, cuda::unary<Op>(p, y.data<scalar_t>(), x.data<scalar_t>(),
                                                 x.numel(), cuda::stream_of(x.device().index)));
    }
  });
}

// The input gradient from the contiguous `go`; `x` / `y` are undefined where Op does not read them.
template <typename Op>
Tensor run_unary_backward(double param, const Tensor& x, const Tensor& y, const Tensor& go) {
  Tensor gi = Tensor::empty(go.shape(), go.dtype(), go.device());
  RTSEG_DISPATCH_FLOATING(go.dtype(), Op::kName, [&] {
    const auto p = static_cast<scalar_t>(param);
    const scalar_t* xp = x.defined() ? x.data<scalar_t>() : nullptr;
    const scalar_t* yp = y.defined() ? y.data<scalar_t>() : nullptr;
    scalar_t* gip = gi.data<scalar_t>();
    const scalar_t* gop = go.data<scalar_t>();
    const Backend backend = backend_for(go.device(), go.dtype());
    if (backend == Backend::CpuReference) {
      cpu::unary_backward<Op>(p, gip, xp, yp, gop, go.numel());
    } else if (backend == Backend::CpuFast) {
      RTSEG_CPU_FAST_ONLY(Op::kName,
                          cpu_fast::parallel_elements(go.numel(), [&](int64_t b, int64_t e) {
                            cpu::unary_backward<Op>(p, gip + b, xp ? xp + b : nullptr,
                                                    yp ? yp + b : nullptr, gop + b, e - b);
                          }));
    } else {
      RTSEG_CUDA_ONLY(Op::kName,
                      cuda::unary_backward<Op>(p, gi.data<scalar_t>(), xp, yp, go.data<scalar_t>(),
                                               go.numel(), cuda::stream_of(go.device().index)));
    }
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
