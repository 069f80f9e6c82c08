// cross_entropy and PIDNet's OHEM cross-entropy: one per-pixel kernel, two reductions.
#include "kernels/cpu/loss_cross_entropy.h"

#include <memory>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"

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
  check::cpu_kernel(op, logits);
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

Tensor scalar_tensor(double value, const Tensor& like) {
  return Tensor::full(Shape{}, value, like.dtype(), like.device());
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& class_weights,
                     int64_t ignore_index, Reduction reduction) {
  const char* op = "cross_entropy";
  const ClassMapInputs in = prepare(op, logits, target, class_weights, ignore_index);
  Tensor loss_map = Tensor::empty(in.target.shape(), in.logits.dtype(), in.logits.device());
  double loss_sum = 0.0, weight_sum = 0.0;
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    std::vector<scalar_t> weight(static_cast<size_t>(in.g.pixels()));
    cpu::cross_entropy_pixels<scalar_t>(loss_map.data<scalar_t>(), weight.data(), nullptr,
                                        in.logits.data<scalar_t>(), in.target.data<int64_t>(),
                                        weights_ptr<scalar_t>(in), in.g, ignore_index);
    const scalar_t* l = loss_map.data<scalar_t>();
    for (int64_t i = 0; i < in.g.pixels(); ++i) {
      loss_sum += l[i];
      weight_sum += weight[static_cast<size_t>(i)];
    }
  });
  Tensor out;
  // d(result)/d(loss_map[i]) for the reductions that produce a scalar.
  double pixel_scale = 1.0;
  switch (reduction) {
    case Reduction::None:
      out = loss_map;
      break;
    case Reduction::Sum:
      out = scalar_tensor(loss_sum, in.logits);
      break;
    case Reduction::Mean:
      // No kept pixel: 0 rather than PyTorch's 0/0 = NaN, so a crop of pure void trains on.
      pixel_scale = weight_sum > 0.0 ? 1.0 / weight_sum : 0.0;
      out = scalar_tensor(loss_sum * pixel_scale, in.logits);
      break;
  }
  // Gradient to the logits only: the targets are labels and the class weights are constants.
  autograd::record(
      op, {logits}, {out},
      [op, in, ignore_index, reduction, pixel_scale](const autograd::TensorList& grads,
                                                     const std::vector<bool>&) {
        const Tensor go = as_contiguous(grads[0]);
        Tensor gx = Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
        RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
          const scalar_t* gp = go.data<scalar_t>();
          auto backward = [&](auto scale) {
            cpu::cross_entropy_backward(gx.data<scalar_t>(), in.logits.data<scalar_t>(),
                                        in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g,
                                        ignore_index, scale);
          };
          if (reduction == Reduction::None) {
            backward([gp](int64_t i) { return gp[i]; });
          } else {
            const scalar_t k = static_cast<scalar_t>(gp[0] * pixel_scale);
            backward([k](int64_t) { return k; });
          }
        });
        return autograd::TensorList{gx};
      });
  return out;
}

Tensor ohem_cross_entropy(const Tensor& logits, const Tensor& target, double thresh,
                          int64_t min_kept, const Tensor& class_weights, int64_t ignore_index) {
  const char* op = "ohem_cross_entropy";
  const ClassMapInputs in = prepare(op, logits, target, class_weights, ignore_index);
  RTSEG_CHECK(min_kept >= 0, "{}: min_kept must be non-negative, got {}", op, min_kept);
  // kept[i] = 1 for the pixels the loss averages over; the backward reuses the selection, which
  // is treated as a constant (it is piecewise constant in the logits).
  auto kept = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(in.g.pixels()), 0);
  int64_t kept_count = 0;
  double loss_sum = 0.0;
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    const size_t pixels = static_cast<size_t>(in.g.pixels());
    std::vector<scalar_t> loss(pixels), weight(pixels), prob(pixels);
    cpu::cross_entropy_pixels<scalar_t>(loss.data(), weight.data(), prob.data(),
                                        in.logits.data<scalar_t>(), in.target.data<int64_t>(),
                                        weights_ptr<scalar_t>(in), in.g, ignore_index);
    const int64_t* t = in.target.data<int64_t>();
    std::vector<scalar_t> valid;
    valid.reserve(pixels);
    for (size_t i = 0; i < pixels; ++i) {
      if (t[i] != ignore_index) valid.push_back(prob[i]);
    }
    if (valid.empty()) return;  // no labelled pixel: the loss is 0
    // Compared in the logits' type, as PyTorch compares a float32 tensor with the Python float.
    const scalar_t threshold =
        cpu::ohem_threshold(std::move(valid), min_kept, static_cast<scalar_t>(thresh));
    for (size_t i = 0; i < pixels; ++i) {
      if (t[i] != ignore_index && prob[i] < threshold) {
        (*kept)[i] = 1;
        ++kept_count;
        loss_sum += loss[i];
      }
    }
  });
  // Plain mean over the kept pixels (not divided by their class weights, as the authors do).
  const double pixel_scale = kept_count > 0 ? 1.0 / static_cast<double>(kept_count) : 0.0;
  Tensor out = scalar_tensor(loss_sum * pixel_scale, in.logits);
  autograd::record(op, {logits}, {out},
                   [op, in, ignore_index, kept, pixel_scale](const autograd::TensorList& grads,
                                                             const std::vector<bool>&) {
                     Tensor gx =
                         Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
                     const double g = grads[0].item();
                     RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
                       const scalar_t k = static_cast<scalar_t>(g * pixel_scale);
                       const uint8_t* keep = kept->data();
                       cpu::cross_entropy_backward(
                           gx.data<scalar_t>(), in.logits.data<scalar_t>(),
                           in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g, ignore_index,
                           [k, keep](int64_t i) { return keep[i] ? k : scalar_t(0); });
                     });
                     return autograd::TensorList{gx};
                   });
  return out;
}

}  // namespace rtseg
