// Losses for dense prediction. Logits are N×C×H×W; class targets are int64 N×H×W.
// Every loss runs on the CPU and on CUDA; on CUDA the reduced result is a 0-dim device tensor
// computed without any host synchronisation (OHEM's selection included), with deterministic
// reductions (fixed order), and the backward reads the incoming gradient on the device.
#pragma once

#include "core/tensor.h"

namespace rtseg {

enum class Reduction { Mean, Sum, None };

// Cross-entropy with an ignored label and optional per-class weights (C-vector), PyTorch
// semantics: Mean = Σ w_y·nll / Σ w_y over non-ignored pixels; Sum = Σ w_y·nll; None = the
// N×H×W map of w_y·nll with 0 at ignored pixels. A target outside [0, C) that is not
// ignore_index is an error on the CPU; on CUDA, where checking would synchronise, such a pixel
// makes its loss (and any reduction over it) NaN instead. Mean over zero kept pixels (or zero
// total weight) is 0, not NaN.
// Logits may also be N×C (target N) or N×C×d1×…×dk (target N×d1×…×dk). The gradient flows to
// the logits only; the class weights are constants. PIDNet's auxiliary term Σ w·nll / (N·H·W)
// (docs/pidnet-s.md, "Auxiliary CE") is mean(cross_entropy(..., Reduction::None)).
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const Tensor& class_weights = Tensor(), int64_t ignore_index = 255,
                     Reduction reduction = Reduction::Mean);

// PIDNet's OHEM cross-entropy (docs/pidnet-s.md, "OHEM cross-entropy"): p = softmax probability of
// the target class at each non-ignored pixel (over the whole batch); sorted ascending; threshold =
// max(p_sorted[min(min_kept, count − 1)], thresh); keep pixels with p strictly below it; the loss
// is the plain mean of their (class-weighted) CE. Returns 0 when nothing is kept or no pixel is
// labelled. p and the threshold are compared in the logits' dtype (as PyTorch compares a float32
// tensor with the Python float). The gradient, to the logits only, is that of the mean over the
// kept set, the selection being a constant. min_kept must be ≥ 0.
Tensor ohem_cross_entropy(const Tensor& logits, const Tensor& target, double thresh = 0.9,
                          int64_t min_kept = 131072, const Tensor& class_weights = Tensor(),
                          int64_t ignore_index = 255);

// PIDNet's class-balanced binary cross-entropy with logits for the boundary head: logits and
// target (0/1 floats) have equal shapes; over all elements, positives weigh #neg/total and
// negatives #pos/total; the result is the mean over all elements. As in the authors' code,
// elements whose target is neither exactly 0 nor 1 weigh 0 (but count in the mean); with no 0/1
// element at all the loss is 0. Same dtype for both; the gradient flows to the logits only (the
// target is a label map: a target that requires grad receives none).
Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target);

// Mean squared error over all elements (equal shapes, no broadcasting); gradient to both.
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

// ICFRNet's complexity distillation term (docs/icfrnet.md, "IC loss"):
// T²/N · Σ_n Σ_i p_t(n,i)·(log p_t(n,i) − log p_s(n,i)), where p = softmax(vec(map)/T) over all
// positions of one image. student, teacher: N×1×H×W (or N×H×W); temperature > 0. The gradient
// flows to the student only: the teacher is a constant (as if detached) and is not an input of
// the recorded node, so a teacher that requires grad is left without a gradient (undefined, not
// zero) by this loss.
Tensor kl_div_softmax(const Tensor& student, const Tensor& teacher, double temperature);

}  // namespace rtseg
