#include "core/ops/reduce.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/elementwise.h"
#include "core/ops/shape_ops.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"

namespace rtseg {

namespace {

struct ReducedShapes {
  Shape keep;  // input shape with reduced dimensions set to 1
  Shape out;   // keep, or keep without the reduced dimensions
};

ReducedShapes reduced_shapes(const char* op, const Tensor& x, const std::vector<int64_t>& dims,
                             bool keepdim) {
  std::vector<bool> reduce(x.dim(), false);
  for (int64_t d : dims) {
    const int64_t nd = d < 0 ? d + x.dim() : d;
    RTSEG_CHECK(nd >= 0 && nd < x.dim(), "{}: dimension {} out of range for {}", op, d,
                x.describe());
    RTSEG_CHECK(!reduce[nd], "{}: dimension {} listed twice", op, d);
    reduce[nd] = true;
  }
  ReducedShapes r;
  for (int64_t i = 0; i < x.dim(); ++i) {
    r.keep.push_back(reduce[i] ? 1 : x.shape()[i]);
    if (!reduce[i] || keepdim) r.out.push_back(r.keep.back());
  }
  return r;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check::floating("sum", x, "input");
  RTSEG_CHECK(x.dim() <= kMaxDims, "sum: rank {} is above the supported {}", x.dim(), kMaxDims);
  const ReducedShapes r = reduced_shapes("sum", x, dims, keepdim);
  Tensor keep = Tensor::empty(r.keep, x.dtype(), x.device());  // the kernels write every output
  const Tensor src = as_contiguous(x);
  Shape kept_size, kept_stride, red_size, red_stride;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool reduced = r.keep[d] == 1;
    (reduced ? red_size : kept_size).push_back(x.shape()[d]);
    (reduced ? red_stride : kept_stride).push_back(src.strides()[d]);
  }
  RTSEG_DISPATCH_KERNELS(x, "sum", [&](const auto& exec) {
    sum_reduce(exec, keep.data<scalar_t>(), keep.numel(), src.data<scalar_t>(),
               make_strided_shape(kept_size, kept_stride),
               make_strided_shape(red_size, red_stride));
  });
  Tensor out = make_view(keep, 0, r.out, contiguous_strides(r.out));
  const Shape in_shape = x.shape(), keep_shape = r.keep;
  autograd::record("sum", {x}, {out},
                   [in_shape, keep_shape](const autograd::TensorList& g, const std::vector<bool>&) {
                     Tensor zeros = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
                     return autograd::TensorList{add(zeros, reshape(g[0], keep_shape))};
                   });
  return out;
}

Tensor sum(const Tensor& x) {
  check::defined("sum", x, "input");
  std::vector<int64_t> all(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) all[i] = i;
  return sum(x, all, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check::floating("mean", x, "input");
  const ReducedShapes r = reduced_shapes("mean", x, dims, keepdim);
  const int64_t count = shape_numel(r.keep) == 0 ? 0 : x.numel() / shape_numel(r.keep);
  RTSEG_CHECK(count > 0, "mean: reducing {} over an empty dimension", x.describe());
  return mul_scalar(sum(x, dims, keepdim), 1.0 / static_cast<double>(count));
}

Tensor argmax_channels(const Tensor& x_in) {
  check::floating("argmax_channels", x_in, "input");
  check::rank("argmax_channels", x_in, 4, "input");
  const Tensor x = as_contiguous(x_in);
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  RTSEG_CHECK(c > 0, "argmax_channels: input {} has no channels", x.describe());
  Tensor out = Tensor::empty({n, x.size(2), x.size(3)}, DType::I64, x.device());
  RTSEG_DISPATCH_KERNELS(x, "argmax_channels", [&](const auto& exec) {
    argmax_channels(exec, out.data<int64_t>(), x.data<scalar_t>(), n, c, hw);
  });
  return out;
}

Tensor mean(const Tensor& x) {
  check::defined("mean", x, "input");
  std::vector<int64_t> all(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) all[i] = i;
  return mean(x, all, false);
}

}  // namespace rtseg
