// cross_entropy and PIDNet's OHEM cross-entropy: one per-pixel kernel, two reductions. On the
// CPU the reductions run here; on CUDA they run on the device (kernels/cuda/loss_cross_entropy.h)
// and the results, the OHEM selection and the backward scale factors stay there.
#include "kernels/cpu/loss_cross_entropy.h"

#include <memory>
#include <type_traits>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
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

Tensor scalar_tensor(double value, const Tensor& like) {
  return Tensor::full(Shape{}, value, like.dtype(), like.device());
}

// The per-pixel kernels of the CPU backend that runs the logits: the fast one (float32) walks
// blocks of pixels on the thread pool with the reference's arithmetic, so both give the same bits.
template <typename T>
void pixels_cpu(T* loss, T* weight, T* prob, const ClassMapInputs& in, int64_t ignore_index) {
  const Backend backend = backend_for(in.logits.device(), in.logits.dtype());
  if constexpr (std::is_same_v<T, float>) {
    if (backend == Backend::CpuFast) {
      RTSEG_CPU_FAST_ONLY("cross_entropy",
                          cpu_fast::cross_entropy_pixels(loss, weight, prob, in.logits.data<T>(),
                                                         in.target.data<int64_t>(),
                                                         weights_ptr<T>(in), in.g, ignore_index));
      return;
    }
  }
  cpu::cross_entropy_pixels<T>(loss, weight, prob, in.logits.data<T>(), in.target.data<int64_t>(),
                               weights_ptr<T>(in), in.g, ignore_index);
}

// grad = the cross-entropy gradient with scale(i) = keep[i] ? per_pixel[i] or uniform : 0 (null
// keep: all kept; null per_pixel: uniform).
template <typename T>
void backward_cpu(const Tensor& gx, const ClassMapInputs& in, int64_t ignore_index,
                  const T* per_pixel, const uint8_t* keep, T uniform) {
  const Backend backend = backend_for(in.logits.device(), in.logits.dtype());
  if constexpr (std::is_same_v<T, float>) {
    if (backend == Backend::CpuFast) {
      RTSEG_CPU_FAST_ONLY("cross_entropy", {
        cpu_fast::CrossEntropyScale scale;
        scale.per_pixel = per_pixel, scale.keep = keep, scale.uniform = uniform;
        cpu_fast::cross_entropy_backward(gx.data<T>(), in.logits.data<T>(),
                                         in.target.data<int64_t>(), weights_ptr<T>(in), in.g,
                                         ignore_index, scale);
      });
      return;
    }
  }
  cpu::cross_entropy_backward(gx.data<T>(), in.logits.data<T>(), in.target.data<int64_t>(),
                              weights_ptr<T>(in), in.g, ignore_index, [=](int64_t i) {
                                if (keep && !keep[i]) return T(0);
                                return per_pixel ? per_pixel[i] : uniform;
                              });
}

#ifdef RTSEG_HAVE_CUDA
// The CUDA paths: every value the backward needs is a device tensor captured by the node.
template <typename T>
void backward_cuda(const Tensor& gx, const ClassMapInputs& in, int64_t ignore_index,
                   const cuda::CrossEntropyGradScale<T>& scale) {
  cuda::cross_entropy_backward(gx.data<T>(), in.logits.data<T>(), in.target.data<int64_t>(),
                               weights_ptr<T>(in), in.g, ignore_index, scale,
                               cuda::stream_of(gx.device().index));
}

Tensor cross_entropy_cuda(const char* op, const Tensor& logits, const ClassMapInputs& in,
                          int64_t ignore_index, Reduction reduction) {
  const Device device = in.logits.device();
  const cuda::Stream stream = cuda::stream_of(device.index);
  const bool per_pixel = reduction == Reduction::None;
  Tensor out = per_pixel ? Tensor::empty(in.target.shape(), in.logits.dtype(), device)
                         : Tensor::empty(Shape{}, in.logits.dtype(), device);
  // d out / d loss_i for the scalar reductions (1/Σw for the mean), written by the device.
  Tensor scale = per_pixel ? Tensor() : Tensor::empty({1}, DType::F64, device);
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    if (per_pixel) {
      cuda::cross_entropy_map(out.data<scalar_t>(), in.logits.data<scalar_t>(),
                              in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g,
                              ignore_index, stream);
    } else {
      Tensor workspace =
          Tensor::empty({cuda::cross_entropy_reduce_workspace_bytes()}, DType::U8, device);
      cuda::cross_entropy_reduce(out.data<scalar_t>(), scale.data<double>(),
                                 in.logits.data<scalar_t>(), in.target.data<int64_t>(),
                                 weights_ptr<scalar_t>(in), in.g, ignore_index,
                                 reduction == Reduction::Mean, workspace.raw_data(), stream);
    }
  });
  autograd::record(op, {logits}, {out},
                   [op, in, ignore_index, per_pixel, scale](const autograd::TensorList& grads,
                                                            const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gx =
                         Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
                     RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
                       cuda::CrossEntropyGradScale<scalar_t> s;
                       s.grad_out = go.data<scalar_t>();
                       s.per_pixel = per_pixel;
                       s.scale = per_pixel ? nullptr : scale.data<double>();
                       backward_cuda(gx, in, ignore_index, s);
                     });
                     return autograd::TensorList{gx};
                   });
  return out;
}

Tensor ohem_cross_entropy_cuda(const char* op, const Tensor& logits, const ClassMapInputs& in,
                               double thresh, int64_t min_kept, int64_t ignore_index) {
  const Device device = in.logits.device();
  const int64_t pixels = in.g.pixels();
  Tensor out = Tensor::empty(Shape{}, in.logits.dtype(), device);
  // The pixels' keys (target-class probability, +inf where ignored) followed by the threshold:
  // the backward recomputes the selection key < threshold from them.
  Tensor selection = Tensor::empty({pixels + 1}, in.logits.dtype(), device);
  Tensor scale = Tensor::empty({1}, DType::F64, device);  // 1 / kept, or 0
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    const int64_t bytes = cuda::ohem_workspace_bytes<scalar_t>(in.g);
    Tensor workspace = Tensor::empty({bytes}, DType::U8, device);
    scalar_t* key = selection.data<scalar_t>();
    cuda::ohem_cross_entropy(
        out.data<scalar_t>(), key, key + pixels, scale.data<double>(), in.logits.data<scalar_t>(),
        in.target.data<int64_t>(), weights_ptr<scalar_t>(in), in.g, ignore_index, min_kept,
        static_cast<scalar_t>(thresh), workspace.raw_data(), bytes, cuda::stream_of(device.index));
  });
  autograd::record(op, {logits}, {out},
                   [op, in, ignore_index, selection, scale, pixels](
                       const autograd::TensorList& grads, const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gx =
                         Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
                     RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
                       cuda::CrossEntropyGradScale<scalar_t> s;
                       s.grad_out = go.data<scalar_t>();
                       s.scale = scale.data<double>();
                       s.key = selection.data<scalar_t>();
                       s.threshold = s.key + pixels;
                       backward_cuda(gx, in, ignore_index, s);
                     });
                     return autograd::TensorList{gx};
                   });
  return out;
}
#endif

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& class_weights,
                     int64_t ignore_index, Reduction reduction) {
  const char* op = "cross_entropy";
  const ClassMapInputs in = prepare(op, logits, target, class_weights, ignore_index);
  if (!in.logits.device().is_cpu()) {
    RTSEG_CUDA_ONLY(op, return cross_entropy_cuda(op, logits, in, ignore_index, reduction));
  }
  Tensor loss_map = Tensor::empty(in.target.shape(), in.logits.dtype(), in.logits.device());
  double loss_sum = 0.0, weight_sum = 0.0;
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    std::vector<scalar_t> weight(static_cast<size_t>(in.g.pixels()));
    pixels_cpu<scalar_t>(loss_map.data<scalar_t>(), weight.data(), nullptr, in, ignore_index);
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
  autograd::record(op, {logits}, {out},
                   [op, in, ignore_index, reduction, pixel_scale](const autograd::TensorList& grads,
                                                                  const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gx =
                         Tensor::empty(in.logits.shape(), in.logits.dtype(), in.logits.device());
                     RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
                       const scalar_t* gp = go.data<scalar_t>();
                       if (reduction == Reduction::None) {
                         backward_cpu<scalar_t>(gx, in, ignore_index, gp, nullptr, scalar_t(0));
                       } else {
                         const scalar_t k = static_cast<scalar_t>(gp[0] * pixel_scale);
                         backward_cpu<scalar_t>(gx, in, ignore_index, nullptr, nullptr, k);
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
  if (!in.logits.device().is_cpu()) {
    RTSEG_CUDA_ONLY(op,
                    return ohem_cross_entropy_cuda(op, logits, in, thresh, min_kept, ignore_index));
  }
  // kept[i] = 1 for the pixels the loss averages over; the backward reuses the selection, which
  // is treated as a constant (it is piecewise constant in the logits).
  auto kept = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(in.g.pixels()), 0);
  int64_t kept_count = 0;
  double loss_sum = 0.0;
  RTSEG_DISPATCH_FLOATING(in.logits.dtype(), op, [&] {
    const size_t pixels = static_cast<size_t>(in.g.pixels());
    std::vector<scalar_t> loss(pixels), weight(pixels), prob(pixels);
    pixels_cpu<scalar_t>(loss.data(), weight.data(), prob.data(), in, ignore_index);
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
                       backward_cpu<scalar_t>(gx, in, ignore_index, nullptr, kept->data(), k);
                     });
                     return autograd::TensorList{gx};
                   });
  return out;
}

}  // namespace rtseg
