#include "core/ops/elementwise.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/pointwise.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu_fast/strided_loops.h"
#include "kernels/cuda/elementwise.h"

namespace rtseg {

namespace {

// Strides that read `t` as if it had `out_shape` (0 along stretched dimensions).
Shape broadcast_strides(const Tensor& t, const Shape& out_shape) {
  const size_t rank = out_shape.size();
  const size_t offset = rank - t.shape().size();
  Shape st(rank, 0);
  for (size_t i = 0; i < t.shape().size(); ++i) {
    st[offset + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  }
  return st;
}

template <typename Op>
Tensor binary_forward(const Tensor& a, const Tensor& b) {
  const char* op = Op::kName;
  check::floating(op, a, "a");
  check::floating(op, b, "b");
  check::compatible(op, a, "a", b, "b");
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  RTSEG_CHECK(shape.size() <= kMaxDims, "{}: rank {} is above the supported {}", op, shape.size(),
              kMaxDims);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const StridedShape a_view = make_strided_shape(shape, broadcast_strides(a, shape));
  const StridedShape b_view = make_strided_shape(shape, broadcast_strides(b, shape));
  RTSEG_DISPATCH_KERNELS(a, op, [&](const auto& exec) {
    broadcast_binary(exec, Op{}, out.data<scalar_t>(), a.data<scalar_t>(), a_view,
                     b.data<scalar_t>(), b_view, out.numel());
  });
  return out;
}

}  // namespace

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    RTSEG_CHECK(da == db || da == 1 || db == 1, "{}: shapes {} and {} do not broadcast", op,
                shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  check::floating("sum_to", x, "input");
  const Shape full = broadcast_shapes("sum_to", x.shape(), shape);
  RTSEG_CHECK(full == x.shape(), "sum_to: cannot reduce {} to {}", x.describe(), shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());  // the kernels write every output
  const Tensor src = as_contiguous(x);
  // The leading dimensions that `shape` lacks, and those where it has 1, are summed.
  const size_t lead = x.shape().size() - shape.size();
  Shape kept_size, kept_stride, red_size, red_stride;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    const bool reduced = d < lead || shape[d - lead] == 1;
    (reduced ? red_size : kept_size).push_back(x.shape()[d]);
    (reduced ? red_stride : kept_stride).push_back(src.strides()[d]);
  }
  RTSEG_DISPATCH_KERNELS(x, "sum_to", [&](const auto& exec) {
    sum_reduce(exec, out.data<scalar_t>(), out.numel(), src.data<scalar_t>(),
               make_strided_shape(kept_size, kept_stride),
               make_strided_shape(red_size, red_stride));
  });
  const Tensor in = x;
  autograd::record(
      "sum_to", {x}, {out}, [in](const autograd::TensorList& g, const std::vector<bool>&) {
        return autograd::TensorList{add(Tensor::zeros(in.shape(), in.dtype(), in.device()), g[0])};
      });
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward<binary::Add>(a, b);
  const Shape sa = a.shape(), sb = b.shape();
  autograd::record("add", {a, b}, {out},
                   [sa, sb](const autograd::TensorList& g, const std::vector<bool>& need) {
                     return autograd::TensorList{need[0] ? sum_to(g[0], sa) : Tensor(),
                                                 need[1] ? sum_to(g[0], sb) : Tensor()};
                   });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward<binary::Sub>(a, b);
  const Shape sa = a.shape(), sb = b.shape();
  autograd::record("sub", {a, b}, {out},
                   [sa, sb](const autograd::TensorList& g, const std::vector<bool>& need) {
                     return autograd::TensorList{need[0] ? sum_to(g[0], sa) : Tensor(),
                                                 need[1] ? neg(sum_to(g[0], sb)) : Tensor()};
                   });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward<binary::Mul>(a, b);
  autograd::record(
      "mul", {a, b}, {out}, [a, b](const autograd::TensorList& g, const std::vector<bool>& need) {
        return autograd::TensorList{need[0] ? sum_to(mul(g[0], b), a.shape()) : Tensor(),
                                    need[1] ? sum_to(mul(g[0], a), b.shape()) : Tensor()};
      });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward<binary::Div>(a, b);
  autograd::record("div", {a, b}, {out},
                   [a, b](const autograd::TensorList& g, const std::vector<bool>& need) {
                     Tensor ga, gb;
                     if (need[0]) ga = sum_to(div(g[0], b), a.shape());
                     if (need[1]) gb = sum_to(neg(div(mul(g[0], a), mul(b, b))), b.shape());
                     return autograd::TensorList{ga, gb};
                   });
  return out;
}

Tensor add_scalar(const Tensor& x, double value) {
  return detail::pointwise<unary::AddScalar>(x, value);
}
Tensor mul_scalar(const Tensor& x, double value) {
  return detail::pointwise<unary::MulScalar>(x, value);
}
Tensor rsub_scalar(const Tensor& x, double value) {
  return detail::pointwise<unary::RSubScalar>(x, value);
}

Tensor neg(const Tensor& x) { return mul_scalar(x, -1.0); }

}  // namespace rtseg
