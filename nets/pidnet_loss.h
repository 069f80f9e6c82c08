// PIDNet's training objective (docs/pidnet-s.md, "Training loss"), computed from the training
// graph's three head outputs [P-aux logits, main logits, boundary logits] (1/8 resolution, or any
// size), the label map and the boundary ground truth:
//
//   every head is first resized to the label size (bilinear, align_corners = True);
//   aux               = 0.4 × CE(P-aux), in the authors' form Σ w_y·nll / (N·H·W) over all pixels
//                       (ignored ones counted as 0), or optionally PyTorch's weighted mean;
//   main              = 1.0 × OHEM CE(main) (thresh 0.9, min_kept 131072, pooled over the batch);
//   boundary          = 20 × class-balanced BCE-with-logits(boundary, edge map);
//   boundary_semantic = 1.0 × OHEM CE(main, label kept where sigmoid(boundary) > 0.8, else
//                       ignore) — the label is built from the boundary head without gradient;
//   total             = aux + main + boundary + boundary_semantic.
//
// Every term is returned already multiplied by its weight, so the terms add up to the total and
// a training log prints exactly what is being minimised.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace rtseg {

// PIDNet's Cityscapes class weights (the configs' 19 values, trainId order). CamVid uses none.
inline constexpr std::array<double, 19> kCityscapesClassWeights = {
    0.8373, 0.918,  0.866,  1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786, 1.0023,
    0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529, 1.0507};

// kCityscapesClassWeights as a 19-vector, for PidnetLossOptions::class_weights.
Tensor cityscapes_class_weights(DType dtype = DType::F32, Device device = Device::cpu());

// How the auxiliary CE is averaged.
enum class AuxCeReduction {
  PixelMean,     // Σ w_y·nll / (N·H·W), ignored pixels in the count (the authors' OHEM setup)
  WeightedMean,  // Σ w_y·nll / Σ w_y over labelled pixels (nn.CrossEntropyLoss's mean)
};

struct PidnetLossOptions {
  double aux_weight = 0.4;                // BALANCE_WEIGHTS[0]
  double main_weight = 1.0;               // BALANCE_WEIGHTS[1]
  double boundary_weight = 20.0;          // coeff_bce of the boundary loss
  double boundary_semantic_weight = 1.0;  // SB_WEIGHTS
  // OHEM on the main and boundary-aware terms (USE_OHEM, true in every PIDNet config); false
  // uses the plain weighted-mean CE there, as the authors' non-OHEM criterion does.
  bool ohem = true;
  double ohem_thresh = 0.9;         // OHEMTHRES
  int64_t ohem_min_kept = 131072;   // OHEMKEEP of the S configs
  double boundary_threshold = 0.8;  // sigmoid(boundary) > this keeps the label
  AuxCeReduction aux_reduction = AuxCeReduction::PixelMean;
  Tensor class_weights;  // C-vector (Cityscapes) or undefined (CamVid)
  int64_t ignore_index = 255;
  bool align_corners = true;  // heads → label size (MODEL.ALIGN_CORNERS)
};

// The authors' settings for a dataset: "cityscapes" gets kCityscapesClassWeights, any other
// dataset none (PIDNet's CamVid config has none); everything else is the defaults above.
PidnetLossOptions pidnet_loss_options(const std::string& dataset);

struct PidnetLossTerms {
  Tensor aux, main, boundary, boundary_semantic;  // each already × its weight (0-dim)
  Tensor total;
  // ("aux", ...), ("main", ...), ("boundary", ...), ("boundary_semantic", ...), ("total", ...).
  std::vector<std::pair<std::string, Tensor>> named() const;
};

// heads: {P-aux N×C×h×w, main N×C×h×w, boundary N×1×h'×w'} (the training graph's list);
// labels: N×H×W int64; boundary_gt: the {0,1} edge map, N×1×H×W or N×H×W, any floating dtype
// (converted to the logits' dtype). The gradient flows to the three heads.
PidnetLossTerms pidnet_loss(const std::vector<Tensor>& heads, const Tensor& labels,
                            const Tensor& boundary_gt, const PidnetLossOptions& options = {});

// A head resized to the label map's H×W (bilinear; itself when already that size).
Tensor resize_to_labels(const Tensor& logits, const Tensor& labels, bool align_corners = true);

// The boundary-aware label: labels where sigmoid(boundary_logits) > threshold (compared in the
// logits' dtype, as PyTorch compares a tensor with a Python float), ignore_index elsewhere.
// boundary_logits: N×1×H×W (already at label size); labels: N×H×W int64. Computed without
// gradient; the result is a new int64 tensor on the labels' device.
Tensor boundary_aware_labels(const Tensor& boundary_logits, const Tensor& labels,
                             double threshold = 0.8, int64_t ignore_index = 255);

}  // namespace rtseg
