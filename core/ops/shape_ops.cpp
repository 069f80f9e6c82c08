#include "core/ops/shape_ops.h"

#include "core/autograd.h"
#include "core/op_checks.h"
#include "core/ops/elementwise.h"

namespace rtseg {

namespace {

int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim) {
  const int64_t d = dim < 0 ? dim + x.dim() : dim;
  RTSEG_CHECK(d >= 0 && d < x.dim(), "{}: dimension {} out of range for {}", op, dim, x.describe());
  return d;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  check::defined("reshape", x, "input");
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      RTSEG_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(shape_in));
      infer = static_cast<int64_t>(i);
    } else {
      RTSEG_CHECK(shape[i] >= 0, "reshape: negative size in {}", shape_str(shape_in));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    RTSEG_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot infer -1 in {} for {}",
                shape_str(shape_in), x.describe());
    shape[infer] = x.numel() / known;
  }
  RTSEG_CHECK(shape_numel(shape) == x.numel(), "reshape: {} cannot be viewed as {}", x.describe(),
              shape_str(shape_in));
  const Tensor src = as_contiguous(x);
  Tensor out = make_view(src, src.offset(), shape, contiguous_strides(shape));
  const Shape in_shape = x.shape();
  autograd::record("reshape", {x}, {out},
                   [in_shape](const autograd::TensorList& g, const std::vector<bool>&) {
                     return autograd::TensorList{reshape(g[0], in_shape)};
                   });
  return out;
}

Tensor narrow(const Tensor& x, int64_t dim_in, int64_t start, int64_t length) {
  check::defined("narrow", x, "input");
  const int64_t dim = normalize_dim("narrow", x, dim_in);
  RTSEG_CHECK(start >= 0 && length >= 0 && start + length <= x.shape()[dim],
              "narrow: [{}, {}) is outside dimension {} of {}", start, start + length, dim,
              x.describe());
  Shape shape = x.shape();
  shape[dim] = length;
  Tensor out = make_view(x, x.offset() + start * x.strides()[dim], shape, x.strides());
  const Shape in_shape = x.shape();
  autograd::record(
      "narrow", {x}, {out},
      [in_shape, dim, start](const autograd::TensorList& g, const std::vector<bool>&) {
        Tensor full = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
        make_view(full, start * full.strides()[dim], g[0].shape(), full.strides()).copy_from(g[0]);
        return autograd::TensorList{full};
      });
  return out;
}

Tensor contiguous(const Tensor& x) {
  check::defined("contiguous", x, "input");
  if (x.is_contiguous()) return x;
  Tensor out = x.clone();
  autograd::record("contiguous", {x}, {out},
                   [](const autograd::TensorList& g, const std::vector<bool>&) {
                     return autograd::TensorList{g[0]};
                   });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim_in) {
  RTSEG_CHECK(!xs.empty(), "concat: no tensors given");
  check::defined("concat", xs[0], "input 0");
  const int64_t dim = normalize_dim("concat", xs[0], dim_in);
  Shape shape = xs[0].shape();
  int64_t total = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < xs.size(); ++i) {
    check::defined("concat", xs[i], "an input");
    check::compatible("concat", xs[0], "input 0", xs[i], "another input");
    RTSEG_CHECK(xs[i].dim() == xs[0].dim(), "concat: input {} is {} but input 0 is {}", i,
                xs[i].describe(), xs[0].describe());
    for (int64_t d = 0; d < xs[0].dim(); ++d) {
      RTSEG_CHECK(d == dim || xs[i].shape()[d] == shape[d],
                  "concat: input {} is {} but input 0 is {} (only dimension {} may differ)", i,
                  xs[i].describe(), xs[0].describe(), dim);
    }
    sizes.push_back(xs[i].shape()[dim]);
    total += xs[i].shape()[dim];
  }
  shape[dim] = total;
  Tensor out = Tensor::empty(shape, xs[0].dtype(), xs[0].device());
  int64_t at = 0;
  for (const Tensor& x : xs) {
    Shape part = x.shape();
    make_view(out, at * out.strides()[dim], part, out.strides()).copy_from(x);
    at += part[dim];
  }
  autograd::record(
      "concat", xs, {out},
      [sizes, dim](const autograd::TensorList& g, const std::vector<bool>& need) {
        autograd::TensorList grads;
        int64_t start = 0;
        for (size_t i = 0; i < sizes.size(); ++i) {
          grads.push_back(need[i] ? narrow(g[0], dim, start, sizes[i]).clone() : Tensor());
          start += sizes[i];
        }
        return grads;
      });
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim_in) {
  check::defined("split", x, "input");
  const int64_t dim = normalize_dim("split", x, dim_in);
  int64_t total = 0;
  for (int64_t s : sizes) {
    RTSEG_CHECK(s >= 0, "split: negative piece size {}", s);
    total += s;
  }
  RTSEG_CHECK(total == x.shape()[dim], "split: pieces add up to {} but dimension {} of {} is {}",
              total, dim, x.describe(), x.shape()[dim]);
  std::vector<Tensor> outs;
  int64_t start = 0;
  for (int64_t s : sizes) {
    Shape shape = x.shape();
    shape[dim] = s;
    outs.push_back(make_view(x, x.offset() + start * x.strides()[dim], shape, x.strides()));
    start += s;
  }
  autograd::record("split", {x}, outs,
                   [dim](const autograd::TensorList& g, const std::vector<bool>&) {
                     return autograd::TensorList{concat(g, dim)};
                   });
  return outs;
}

Tensor channel_shuffle(const Tensor& x, int64_t groups) {
  check::rank("channel_shuffle", x, 4, "input");
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  RTSEG_CHECK(groups > 0 && c % groups == 0,
              "channel_shuffle: {} channels do not split into {} groups", c, groups);
  const Tensor src = as_contiguous(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t per = c / groups;
  // Read the input as [N, per, groups, HW] through transposed strides of [N, groups, per, HW].
  make_view(out, 0, {n, per, groups, hw}, contiguous_strides({n, per, groups, hw}))
      .copy_from(make_view(src, src.offset(), {n, per, groups, hw}, {c * hw, hw, per * hw, 1}));
  autograd::record(
      "channel_shuffle", {x}, {out},
      [per](const autograd::TensorList& g, const std::vector<bool>&) {
        return autograd::TensorList{channel_shuffle(g[0], per)};  // the inverse permutation
      });
  return out;
}

}  // namespace rtseg
