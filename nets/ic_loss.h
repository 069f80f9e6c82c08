// ICFRNet's image-complexity objective (docs/icfrnet.md, "IC loss") and the full ICFRNet loss
// ("Full loss").
//
// IC loss: the IC head's logit map L (1/8 resolution) is upsampled bilinearly to the size of the
// teacher's map and then squashed, Î_c = sigmoid(resize(L)) ("upsample-then-sigmoid", as the
// authors' follow-up ICTNet does it); with the teacher map I_c (detached):
//   L_IC = a · MSE(Î_c, I_c) + b · T² · KL(softmax(vec(I_c)/T) ‖ softmax(vec(Î_c)/T)),
// softmax over the H×W positions of each image, KL summed and divided by the batch size,
// T = 0.6, a = 1, b = 10 by default (ICTNet's paper λ3, λ4; docs/icfrnet.md, "Open choices" #8).
//
// ICFRNet loss: segmentation_weight · L_PIDNet + ic_weight · L_IC (+ an optional ablation term,
// the complexity-weighted CE below). Terms are returned already weighted, so they add up to the
// total that is minimised.
//
// Complexity-weighted CE (ablation: the complexity prior used as a per-pixel loss weight, in the
// spirit of IC9600's "complexity as auxiliary information" experiments; the exact form of those
// experiments is not in the available evidence, so this one is rtseg's reconstruction):
//   Σ_pixels (1 + γ·c) · w_y · nll / (N·H·W)   (ignored pixels contribute 0 but count, as in
// PIDNet's auxiliary CE), c the detached complexity map, w_y the class weights.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nets/pidnet_loss.h"

namespace rtseg {

struct IcLossOptions {
  double mse_weight = 1.0;   // a
  double kl_weight = 10.0;   // b (the T² factor is applied on top, inside kl_div_softmax)
  double temperature = 0.6;  // T
  // IC logits → teacher size. ICTNet upsamples with F.interpolate(scale_factor = 8) and the
  // default align_corners = False.
  bool align_corners = false;
};

struct IcLossTerms {
  Tensor prediction;  // Î_c, N×1×H×W in (0, 1), with history back to the IC logits
  Tensor mse;         // a · MSE
  Tensor kl;          // b · T² · KL
  Tensor total;       // mse + kl
  std::vector<std::pair<std::string, Tensor>> named() const;  // ic_mse, ic_kl, ic_total
};

// Î_c = sigmoid(bilinear resize of the N×1×h×w IC logits to height × width).
Tensor ic_prediction(const Tensor& ic_logits, int64_t height, int64_t width,
                     bool align_corners = false);

// ic_logits: N×1×h×w; teacher_map: N×1×H×W in [0, 1] (its size sets the loss resolution; it is
// detached here whatever it carries). Gradient to the IC logits only.
IcLossTerms ic_loss(const Tensor& ic_logits, const Tensor& teacher_map,
                    const IcLossOptions& options = {});
// The same on an already-activated full-resolution prediction Î_c (N×1×H×W).
IcLossTerms ic_loss_on_map(const Tensor& prediction, const Tensor& teacher_map,
                           const IcLossOptions& options = {});

// The complexity-weighted CE above. logits N×C×H×W (at label size), labels N×H×W int64,
// complexity N×1×H×W or N×H×W in [0, 1] (detached here). Gradient to the logits.
Tensor complexity_weighted_cross_entropy(const Tensor& logits, const Tensor& labels,
                                         const Tensor& complexity, double gamma = 1.0,
                                         const Tensor& class_weights = Tensor(),
                                         int64_t ignore_index = 255);

struct IcfrnetLossOptions {
  PidnetLossOptions segmentation;  // PIDNet's terms, unchanged (docs/icfrnet.md, "Full loss")
  IcLossOptions ic;
  double segmentation_weight = 1.0;  // the segmentation / IC balance
  double ic_weight = 1.0;            // 0 drops the IC term (the IC logits may then be undefined)
  // Ablation: + complexity_ce_weight · complexity_weighted_cross_entropy(main logits, labels,
  // complexity map, complexity_ce_gamma). 0 (default) leaves it out.
  double complexity_ce_weight = 0.0;
  double complexity_ce_gamma = 1.0;
};

struct IcfrnetLossTerms {
  PidnetLossTerms segmentation;  // each × segmentation_weight
  IcLossTerms ic;                // each × ic_weight; undefined when ic_weight is 0
  Tensor complexity_ce;          // × complexity_ce_weight; undefined when off
  Tensor total;
  // The segmentation terms, the IC terms and complexity_ce that are defined, then "total".
  std::vector<std::pair<std::string, Tensor>> named() const;
};

// heads: PIDNet's {P-aux, main, boundary}; ic_logits: the IC head's N×1×h×w logits; complexity:
// the pseudo-label map N×1×H×W at label size (from data/complexity.h's sources).
IcfrnetLossTerms icfrnet_loss(const std::vector<Tensor>& heads, const Tensor& ic_logits,
                              const Tensor& labels, const Tensor& boundary_gt,
                              const Tensor& complexity, const IcfrnetLossOptions& options = {});

}  // namespace rtseg
