// Losses for dense prediction. Logits are N×C×H×W; class targets are int64 N×H×W.
#pragma once

#include "core/tensor.h"

namespace rtseg {

enum class Reduction { Mean, Sum, None };

// Cross-entropy with an ignored label and optional per-class weights (C-vector), PyTorch
// semantics: Mean = Σ w_y·nll / Σ w_y over non-ignored pixels; Sum = Σ w_y·nll; None = the
// N×H×W map of w_y·nll with 0 at ignored pixels. A target outside [0, C) that is not
// ignore_index is an error. Mean over zero kept pixels is 0.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& class_weights = Tensor(),
                     int64_t ignore_index = 255, Reduction reduction = Reduction::Mean);

// PIDNet's OHEM cross-entropy (specs/PIDNET_S.md §4): p = softmax probability of the target class
// at each non-ignored pixel (over the whole batch); sorted ascending; threshold =
// max(p_sorted[min(min_kept, count − 1)], thresh); keep pixels with p strictly below it; the loss
// is the plain mean of their (class-weighted) CE. Returns 0 when nothing is kept.
Tensor ohem_cross_entropy(const Tensor& logits, const Tensor& target, double thresh = 0.9,
                          int64_t min_kept = 131072, const Tensor& class_weights = Tensor(),
                          int64_t ignore_index = 255);

// PIDNet's class-balanced binary cross-entropy with logits for the boundary head: logits and
// target (0/1 floats) have equal shapes; over all elements, positives weigh #neg/total and
// negatives #pos/total; the result is the mean over all elements.
Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target);

// Mean squared error over all elements.
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

// ICFRNet's complexity distillation term (specs/ICFRNET.md §3):
// T²/N · Σ_n Σ_i p_t(n,i)·(log p_t(n,i) − log p_s(n,i)), where p = softmax(vec(map)/T) over all
// positions of one image. student, teacher: N×1×H×W (or N×H×W); the gradient flows to the
// student only (the teacher is treated as a constant).
Tensor kl_div_softmax(const Tensor& student, const Tensor& teacher, double temperature);

}  // namespace rtseg
