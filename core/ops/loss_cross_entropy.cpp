// cross_entropy and PIDNet's OHEM cross-entropy: one per-pixel kernel, two reductions, one
// kernel call per step for every backend; the results, the OHEM selection and the backward's
// scale factors stay on the logits' device.
#include "kernels/cpu/loss_cross_entropy.h"

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"
#include "kernels/cpu_fast/cross_entropy.h"
#include "kernels/cuda/loss_cross_entropy.h"

namespace rtseg {

namespace {

// Validated, contiguous inputs of a class-map loss.
struct ClassMapInputs {
  cpu::ClassMapGeometry g;
  Tensor logits, target, weights;  // weights undefined when unweighted
};

ClassMapInputs prepare(const char* op, const Tensor& logits, const Tensor& target,
                       const Tensor& class_weights, int64_t ignore_index) {
  check::floating(op, logits, "logits");
  RTSEG_CHECK(logits.dim() >= 2, "{}: logits must be N×C or N×C×H×W, got {}", op,
              logits.describe());
  check::defined(op, target, "target");
  RTSEG_CHECK(target.dtype() == DType::I64, "{}: target must hold int64 class indices, got {}", op,
              target.describe());
  check::same_device(op, logits, "logits", target, "target");
  Shape expected = logits.shape();
  expected.erase(expected.begin() + 1);  // the class dimension
  RTSEG_CHECK(target.shape() == expected,
              "{}: target must have shape {} to match logits {}, got {}", op, shape_str(expected),
              logits.describe(), target.describe());
  ClassMapInputs in;
  in.g.n = logits.size(0);
  in.g.c = logits.size(1);
  in.g.s = in.g.n == 0 ? 0 : target.numel() / in.g.n;
  RTSEG_CHECK(in.g.c > 0, "{}: logits have no classes: {}", op, logits.describe());
  if (class_weights.defined()) {
    check::floating(op, class_weights, "class_weights");
    check::compatible(op, logits, "logits", class_weights, "class_weights");
    check::shape_is(op, class_weights, {in.g.c}, "class_weights");
    in.weights = as_contiguous(class_weights);
  }
  in.logits = as_contiguous(logits);
  in.target = as_contiguous(target);
  // A label outside the classes would index past the logits: refuse it here, with its place.
  // (On CUDA that check would cost a host synchronisation: the kernels never index with such a
  // label and turn its loss into NaN instead.)
  if (!in.target.device().is_cpu()) return in;
  const int64_t* t = in.target.data<int64_t>();
  for (int64_t i = 0; i < in.target.numel(); ++i) {
    RTSEG_CHECK(
        t[i] == ignore_index || (t[i] >= 0 && t[i] < in.g.c),
        "{}: target value {} at flat index {} is outside [0, {}) and is not ignore_index {}", op,
        t[i], i, in.g.c, ignore_index);
  }
  return in;
}

template <typename T>
const T* weights_ptr(const ClassMapInputs& in) {
  return in.weights.defined() ? in.weights.data<T>() : nullptr;
}

// The input gradient: every value the backward reads (the incoming gradient, the reductions'
// scale, OHEM's selection) is a tensor of the logits' device captured by the node.
Tensor logits_gradient(const char* op, const ClassMapInputs& in, int64_t ignore_index,
                       const Tensor& go, bool per_pixel, const Tensor& scale,
                       const Tensor& selection) {
  Tensor gx = Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
  RTSEG_DISPATCH_KERNELS(in.logits, op, [&](const auto& exec) {
    cpu::CrossEntropyGradScale<scalar_t> s;
    s.grad_out = go.data<scalar_t>();
    s.per_pixel = per_pixel;
    s.scale = scale.defined() ? scale.data<double>() : nullptr;
    if (selection.defined()) {
      s.key = selection.data<scalar_t>();
      s.threshold = s.key + in.g.pixels();
    }
    cross_entropy_backward(exec, gx.data<scalar_t>(), in.logits.data<scalar_t>(),
                           in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g, ignore_index,
                           s);
  });
  return gx;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& class_weights,
                     int64_t ignore_index, Reduction reduction) {
  const char* op = "cross_entropy";
  const ClassMapInputs in = prepare(op, logits, target, class_weights, ignore_index);
  const Device device = in.logits.device();
  const bool per_pixel = reduction == Reduction::None;
  Tensor out = per_pixel ? Tensor::empty(in.target.shape(), in.logits.dtype(), device)
                         : Tensor::empty(Shape{}, in.logits.dtype(), device);
  // d out / d loss_i for the scalar reductions (1/Σw for the mean).
  const Tensor scale = per_pixel ? Tensor() : Tensor::empty({1}, DType::F64, device);
  RTSEG_DISPATCH_KERNELS(in.logits, op, [&](const auto& exec) {
    if (per_pixel) {
      cross_entropy_map(exec, out.data<scalar_t>(), in.logits.data<scalar_t>(),
                        in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g, ignore_index);
    } else {
      const Workspace ws(cross_entropy_reduce_workspace_bytes(exec), DType::U8, device);
      cross_entropy_reduce(exec, out.data<scalar_t>(), scale.data<double>(),
                           in.logits.data<scalar_t>(), in.target.data<int64_t>(),
                           weights_ptr<scalar_t>(in), in.g, ignore_index,
                           reduction == Reduction::Mean, ws.bytes());
    }
  });
  // Gradient to the logits only: the targets are labels and the class weights are constants.
  autograd::record(
      op, {logits}, {out},
      [op, in, ignore_index, per_pixel, scale](const autograd::TensorList& grads,
                                               const std::vector<bool>&) {
        return autograd::TensorList{logits_gradient(op, in, ignore_index, as_contiguous(grads[0]),
                                                    per_pixel, scale, Tensor())};
      });
  return out;
}

Tensor ohem_cross_entropy(const Tensor& logits, const Tensor& target, double thresh,
                          int64_t min_kept, const Tensor& class_weights, int64_t ignore_index) {
  const char* op = "ohem_cross_entropy";
  const ClassMapInputs in = prepare(op, logits, target, class_weights, ignore_index);
  RTSEG_CHECK(min_kept >= 0, "{}: min_kept must be non-negative, got {}", op, min_kept);
  const Device device = in.logits.device();
  const int64_t pixels = in.g.pixels();
  Tensor out = Tensor::empty(Shape{}, in.logits.dtype(), device);
  // The pixels' keys (target-class probability, +inf where ignored) followed by the threshold:
  // the backward recomputes the selection key < threshold from them. The selection is treated
  // as a constant (it is piecewise constant in the logits).
  const Tensor selection = Tensor::empty({pixels + 1}, in.logits.dtype(), device);
  const Tensor scale = Tensor::empty({1}, DType::F64, device);  // 1 / kept, or 0
  RTSEG_DISPATCH_KERNELS(in.logits, op, [&](const auto& exec) {
    const int64_t bytes = ohem_workspace_bytes(exec, in.g, scalar_t{});
    const Workspace ws(bytes, DType::U8, device);
    scalar_t* key = selection.data<scalar_t>();
    ohem_cross_entropy(exec, out.data<scalar_t>(), key, key + pixels, scale.data<double>(),
                       in.logits.data<scalar_t>(), in.target.data<int64_t>(),
                       weights_ptr<scalar_t>(in), in.g, ignore_index, min_kept,
                       static_cast<scalar_t>(thresh), ws.bytes(), bytes);
  });
  autograd::record(op, {logits}, {out},
                   [op, in, ignore_index, selection, scale](const autograd::TensorList& grads,
                                                            const std::vector<bool>&) {
                     return autograd::TensorList{logits_gradient(
                         op, in, ignore_index, as_contiguous(grads[0]), false, scale, selection)};
                   });
  return out;
}

}  // namespace rtseg
