// Segmentation metrics (docs/datasets.md, "Metrics"): one confusion matrix over a whole split;
// pixels whose ground truth is the ignore value are dropped before counting. Per class c, with
// TP = M[c][c], FN = row sum − TP, FP = column sum − TP:
//   IoU_c = TP / (TP + FP + FN),   Acc_c = TP / (TP + FN)
// A class absent from the ground truth (row sum 0) has IoU and Acc `nan`, not 0 — its false
// positives still count, as false negatives of the true classes. mIoU and mAcc are the means over
// the classes that are not nan; aAcc = Σ TP / Σ M.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rtseg::app {

class ConfusionMatrix {
 public:
  ConfusionMatrix(int num_classes, int ignore_index);

  // Counts n pixels (rows = ground truth, columns = prediction). A ground-truth value that is
  // neither a class nor the ignore value, or a prediction outside the classes, is an Error.
  void add(const int64_t* ground_truth, const int64_t* prediction, size_t n);
  // int64 tensors of equal shape (any device).
  void add(const Tensor& ground_truth, const Tensor& prediction);
  void merge(const ConfusionMatrix& other);

  int num_classes() const { return classes_; }
  int ignore_index() const { return ignore_; }
  uint64_t at(int truth, int predicted) const {
    return counts_[size_t(truth) * classes_ + predicted];
  }
  uint64_t total() const;

 private:
  int classes_, ignore_;
  std::vector<uint64_t> counts_;
};

struct ClassMetrics {
  double iou = 0, acc = 0;
  uint64_t gt_pixels = 0, predicted_pixels = 0;
};

struct SegmentationMetrics {
  double miou = 0, aacc = 0, macc = 0;
  // The mIoU of predicting the most frequent ground-truth class everywhere: (its share of the
  // pixels) / (number of classes present). What "better than chance" has to beat.
  double majority_miou = 0;
  std::vector<ClassMetrics> classes;
};

SegmentationMetrics compute_metrics(const ConfusionMatrix& m);

// The per-class table (name, IoU %, Acc %, GT pixels) followed by the mIoU / aAcc / mAcc line
// and the majority-class baseline.
std::string format_metrics_table(const SegmentationMetrics& s,
                                 const std::vector<std::string>& names);
// The confusion matrix as rows of pixel counts (rows: ground truth), columns headed by class
// index, with the row's class name.
std::string format_confusion_matrix(const ConfusionMatrix& m,
                                    const std::vector<std::string>& names);
// metrics.json: {"mIoU", "aAcc", "mAcc", "majority_mIoU", "classes":
// [{"name","IoU","Acc","gt_pixels", "predicted_pixels"}], "confusion_matrix": [[...]], ...extra};
// nan → null. Values are fractions.
std::string metrics_json(const SegmentationMetrics& s, const ConfusionMatrix& m,
                         const std::vector<std::string>& names,
                         const std::vector<std::pair<std::string, std::string>>& extra = {});
// Writes metrics_json atomically.
void write_metrics_json(const std::string& path, const SegmentationMetrics& s,
                        const ConfusionMatrix& m, const std::vector<std::string>& names,
                        const std::vector<std::pair<std::string, std::string>>& extra = {});

// Per-pixel argmax over dimension 1 of N×C×H×W logits (any device) → N×H×W int64 on the CPU.
// Ties go to the lower class.
Tensor argmax_classes(const Tensor& logits);

}  // namespace rtseg::app
