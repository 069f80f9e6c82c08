#include "nets/pidnet_loss.h"

#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops.h"

namespace rtseg {

namespace {

constexpr const char* kOp = "pidnet_loss";

// N×H×W int64 labels, with N matching the heads.
void check_labels(const char* op, const Tensor& labels) {
  check::defined(op, labels, "labels");
  RTSEG_CHECK(labels.dim() == 3 && labels.dtype() == DType::I64,
              "{}: labels must be an N×H×W int64 map, got {}", op, labels.describe());
}

void check_head(const Tensor& head, const char* name, const Tensor& labels) {
  check::floating(kOp, head, name);
  RTSEG_CHECK(head.dim() == 4, "{}: {} must be N×C×h×w, got {}", kOp, name, head.describe());
  RTSEG_CHECK(head.size(0) == labels.size(0), "{}: {} has {} images but labels have {}", kOp, name,
              head.size(0), labels.size(0));
  check::same_device(kOp, head, name, labels, "labels");
}

// The boundary ground truth as an N×1×H×W tensor of `like`'s dtype (edge maps arrive as float32
// N×1×H×W from the loader; tests and other callers may give N×H×W or float64).
Tensor boundary_target(const Tensor& boundary_gt, const Tensor& labels, const Tensor& like) {
  check::floating(kOp, boundary_gt, "boundary_gt");
  const Shape expected{labels.size(0), 1, labels.size(1), labels.size(2)};
  const bool ok = boundary_gt.shape() == expected ||
                  (boundary_gt.dim() == 3 && boundary_gt.shape() == labels.shape());
  RTSEG_CHECK(ok, "{}: boundary_gt must be {} or {} to match labels {}, got {}", kOp,
              shape_str(expected), shape_str(labels.shape()), labels.describe(),
              boundary_gt.describe());
  check::same_device(kOp, boundary_gt, "boundary_gt", labels, "labels");
  // The target is a constant of the loss: never let a gradient reach it.
  Tensor t = boundary_gt.detach().to(like.dtype());
  return reshape(t, expected);
}

template <typename T>
void keep_where_confident(const T* prob, const int64_t* labels, int64_t* out, int64_t n,
                          T threshold, int64_t ignore_index) {
  for (int64_t i = 0; i < n; ++i) out[i] = prob[i] > threshold ? labels[i] : ignore_index;
}

}  // namespace

Tensor cityscapes_class_weights(DType dtype, Device device) {
  const std::vector<double> w(kCityscapesClassWeights.begin(), kCityscapesClassWeights.end());
  return Tensor::from_doubles(w, {static_cast<int64_t>(w.size())}, dtype, device);
}

PidnetLossOptions pidnet_loss_options(const std::string& dataset) {
  PidnetLossOptions o;
  if (dataset == "cityscapes") o.class_weights = cityscapes_class_weights();
  return o;
}

std::vector<std::pair<std::string, Tensor>> PidnetLossTerms::named() const {
  return {{"aux", aux},
          {"main", main},
          {"boundary", boundary},
          {"boundary_semantic", boundary_semantic},
          {"total", total}};
}

Tensor resize_to_labels(const Tensor& logits, const Tensor& labels, bool align_corners) {
  const int64_t h = labels.size(-2), w = labels.size(-1);
  if (logits.size(2) == h && logits.size(3) == w) return logits;
  return interpolate_bilinear(logits, h, w, align_corners);
}

Tensor boundary_aware_labels(const Tensor& boundary_logits, const Tensor& labels, double threshold,
                             int64_t ignore_index) {
  const char* op = "boundary_aware_labels";
  check_labels(op, labels);
  check::floating(op, boundary_logits, "boundary_logits");
  const Shape expected{labels.size(0), 1, labels.size(1), labels.size(2)};
  RTSEG_CHECK(boundary_logits.shape() == expected,
              "{}: boundary_logits must be {} (one channel at the label size), got {}", op,
              shape_str(expected), boundary_logits.describe());
  autograd::NoGradGuard no_grad;
  // The mask is made from the sigmoid as rtseg computes it, in the logits' dtype, so that float32
  // training compares exactly what PyTorch compares. The selection itself is a host loop: on
  // CUDA the two maps make a round trip (see the report on a device-side where()).
  const Tensor prob = as_contiguous(sigmoid(boundary_logits.detach()).to(Device::cpu()));
  const Tensor lab = as_contiguous(labels.to(Device::cpu()));
  Tensor out = Tensor::empty(labels.shape(), DType::I64);
  RTSEG_DISPATCH_FLOATING(prob.dtype(), op, [&] {
    keep_where_confident<scalar_t>(prob.data<scalar_t>(), lab.data<int64_t>(), out.data<int64_t>(),
                                   out.numel(), static_cast<scalar_t>(threshold), ignore_index);
  });
  return out.to(labels.device());
}

PidnetLossTerms pidnet_loss(const std::vector<Tensor>& heads, const Tensor& labels,
                            const Tensor& boundary_gt, const PidnetLossOptions& o) {
  RTSEG_CHECK(heads.size() == 3,
              "{}: expected the training graph's 3 heads [P-aux, main, boundary], got {}", kOp,
              heads.size());
  check_labels(kOp, labels);
  check_head(heads[0], "aux logits", labels);
  check_head(heads[1], "main logits", labels);
  check_head(heads[2], "boundary logits", labels);
  RTSEG_CHECK(heads[0].size(1) == heads[1].size(1),
              "{}: aux logits have {} classes but main logits have {}", kOp, heads[0].size(1),
              heads[1].size(1));
  RTSEG_CHECK(heads[2].size(1) == 1, "{}: boundary logits must have 1 channel, got {}", kOp,
              heads[2].describe());
  check::same_dtype(kOp, heads[0], "aux logits", heads[1], "main logits");
  check::same_dtype(kOp, heads[1], "main logits", heads[2], "boundary logits");

  const Tensor aux = resize_to_labels(heads[0], labels, o.align_corners);
  const Tensor main = resize_to_labels(heads[1], labels, o.align_corners);
  const Tensor boundary = resize_to_labels(heads[2], labels, o.align_corners);
  const Tensor weights =
      o.class_weights.defined() ? o.class_weights.to(main.dtype()).to(main.device()) : Tensor();

  auto semantic = [&](const Tensor& logits, const Tensor& target) {
    return o.ohem ? ohem_cross_entropy(logits, target, o.ohem_thresh, o.ohem_min_kept, weights,
                                       o.ignore_index)
                  : cross_entropy(logits, target, weights, o.ignore_index, Reduction::Mean);
  };

  PidnetLossTerms t;
  const Tensor aux_ce =
      o.aux_reduction == AuxCeReduction::PixelMean
          ? mean(cross_entropy(aux, labels, weights, o.ignore_index, Reduction::None))
          : cross_entropy(aux, labels, weights, o.ignore_index, Reduction::Mean);
  t.aux = mul_scalar(aux_ce, o.aux_weight);
  t.main = mul_scalar(semantic(main, labels), o.main_weight);
  t.boundary =
      mul_scalar(balanced_bce_with_logits(boundary, boundary_target(boundary_gt, labels, boundary)),
                 o.boundary_weight);
  const Tensor sb_labels =
      boundary_aware_labels(boundary, labels, o.boundary_threshold, o.ignore_index);
  t.boundary_semantic = mul_scalar(semantic(main, sb_labels), o.boundary_semantic_weight);
  t.total = add(add(t.aux, t.main), add(t.boundary, t.boundary_semantic));
  return t;
}

}  // namespace rtseg
