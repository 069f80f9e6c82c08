#include "nets/ic_loss.h"

#include "core/op_checks.h"
#include "core/ops.h"

namespace rtseg {

namespace {

// A one-channel N×1×H×W map (N×H×W accepted and viewed as such), detached, in `like`'s dtype.
Tensor constant_map(const char* op, const Tensor& map, const char* name, const Tensor& like,
                    const Shape& expected) {
  check::floating(op, map, name);
  check::same_device(op, map, name, like, "prediction");
  const Shape squeezed{expected[0], expected[2], expected[3]};
  RTSEG_CHECK(map.shape() == expected || map.shape() == squeezed,
              "{}: {} must be {} (or {}), got {}", op, name, shape_str(expected),
              shape_str(squeezed), map.describe());
  return reshape(map.detach().to(like.dtype()), expected);
}

Tensor scaled(const Tensor& t, double w) { return w == 1.0 ? t : mul_scalar(t, w); }

}  // namespace

std::vector<std::pair<std::string, Tensor>> IcLossTerms::named() const {
  return {{"ic_mse", mse}, {"ic_kl", kl}, {"ic_total", total}};
}

std::vector<std::pair<std::string, Tensor>> IcfrnetLossTerms::named() const {
  std::vector<std::pair<std::string, Tensor>> out = segmentation.named();
  out.back().first = "segmentation";  // PIDNet's total, as a part of ICFRNet's
  if (ic.total.defined()) {
    for (auto& entry : ic.named()) out.push_back(entry);
  }
  if (complexity_ce.defined()) out.emplace_back("complexity_ce", complexity_ce);
  out.emplace_back("total", total);
  return out;
}

Tensor ic_prediction(const Tensor& ic_logits, int64_t height, int64_t width, bool align_corners) {
  const char* op = "ic_prediction";
  check::floating(op, ic_logits, "ic_logits");
  RTSEG_CHECK(ic_logits.dim() == 4 && ic_logits.size(1) == 1,
              "{}: ic_logits must be N×1×h×w, got {}", op, ic_logits.describe());
  // Upsample first, then the sigmoid: the order the authors use (it differs from resizing a
  // sigmoid map wherever the logits curve).
  const bool same = ic_logits.size(2) == height && ic_logits.size(3) == width;
  return sigmoid(same ? ic_logits : interpolate_bilinear(ic_logits, height, width, align_corners));
}

IcLossTerms ic_loss_on_map(const Tensor& prediction, const Tensor& teacher_map,
                           const IcLossOptions& o) {
  const char* op = "ic_loss";
  check::floating(op, prediction, "prediction");
  RTSEG_CHECK(prediction.dim() == 4 && prediction.size(1) == 1,
              "{}: prediction must be N×1×H×W, got {}", op, prediction.describe());
  RTSEG_CHECK(o.temperature > 0, "{}: temperature must be positive, got {}", op, o.temperature);
  const Tensor teacher =
      constant_map(op, teacher_map, "teacher_map", prediction, prediction.shape());
  IcLossTerms t;
  t.prediction = prediction;
  t.mse = scaled(mse_loss(prediction, teacher), o.mse_weight);
  t.kl = scaled(kl_div_softmax(prediction, teacher, o.temperature), o.kl_weight);
  t.total = add(t.mse, t.kl);
  return t;
}

IcLossTerms ic_loss(const Tensor& ic_logits, const Tensor& teacher_map, const IcLossOptions& o) {
  check::floating("ic_loss", teacher_map, "teacher_map");
  RTSEG_CHECK(teacher_map.dim() == 4 || teacher_map.dim() == 3,
              "ic_loss: teacher_map must be N×1×H×W or N×H×W, got {}", teacher_map.describe());
  const int64_t h = teacher_map.size(-2), w = teacher_map.size(-1);
  return ic_loss_on_map(ic_prediction(ic_logits, h, w, o.align_corners), teacher_map, o);
}

Tensor complexity_weighted_cross_entropy(const Tensor& logits, const Tensor& labels,
                                         const Tensor& complexity, double gamma,
                                         const Tensor& class_weights, int64_t ignore_index) {
  const char* op = "complexity_weighted_cross_entropy";
  check::floating(op, logits, "logits");
  RTSEG_CHECK(logits.dim() == 4, "{}: logits must be N×C×H×W, got {}", op, logits.describe());
  const Shape map_shape{logits.size(0), 1, logits.size(2), logits.size(3)};
  const Tensor c = constant_map(op, complexity, "complexity", logits, map_shape);
  // Per-pixel w_y·nll (0 at ignored pixels), then the complexity weight 1 + γ·c as a constant.
  const Tensor weights =
      class_weights.defined() ? class_weights.to(logits.dtype()).to(logits.device()) : Tensor();
  const Tensor per_pixel = cross_entropy(logits, labels, weights, ignore_index, Reduction::None);
  const Tensor weight = reshape(add_scalar(mul_scalar(c, gamma), 1.0), per_pixel.shape());
  return mean(mul(per_pixel, weight));
}

IcfrnetLossTerms icfrnet_loss(const std::vector<Tensor>& heads, const Tensor& ic_logits,
                              const Tensor& labels, const Tensor& boundary_gt,
                              const Tensor& complexity, const IcfrnetLossOptions& o) {
  IcfrnetLossTerms t;
  PidnetLossTerms seg = pidnet_loss(heads, labels, boundary_gt, o.segmentation);
  for (Tensor* term : {&seg.aux, &seg.main, &seg.boundary, &seg.boundary_semantic, &seg.total}) {
    *term = scaled(*term, o.segmentation_weight);
  }
  t.segmentation = seg;
  Tensor total = seg.total;
  if (o.ic_weight != 0.0) {
    RTSEG_CHECK(complexity.defined(), "icfrnet_loss: the IC term needs a complexity map");
    IcLossTerms ic = ic_loss(ic_logits, complexity, o.ic);
    ic.mse = scaled(ic.mse, o.ic_weight);
    ic.kl = scaled(ic.kl, o.ic_weight);
    ic.total = scaled(ic.total, o.ic_weight);
    total = add(total, ic.total);
    t.ic = ic;
  }
  if (o.complexity_ce_weight != 0.0) {
    RTSEG_CHECK(complexity.defined(),
                "icfrnet_loss: the complexity-weighted CE needs a complexity map");
    const Tensor main = resize_to_labels(heads.at(1), labels, o.segmentation.align_corners);
    t.complexity_ce = scaled(complexity_weighted_cross_entropy(
                                 main, labels, complexity, o.complexity_ce_gamma,
                                 o.segmentation.class_weights, o.segmentation.ignore_index),
                             o.complexity_ce_weight);
    total = add(total, t.complexity_ce);
  }
  t.total = total;
  return t;
}

}  // namespace rtseg
