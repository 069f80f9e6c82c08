#include "apps/lib/metrics.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/safetensors.h"

namespace rtseg::app {

ConfusionMatrix::ConfusionMatrix(int num_classes, int ignore_index)
    : classes_(num_classes), ignore_(ignore_index) {
  RTSEG_CHECK(num_classes >= 1, "confusion matrix: {} classes", num_classes);
  counts_.assign(size_t(num_classes) * num_classes, 0);
}

void ConfusionMatrix::add(const int64_t* truth, const int64_t* predicted, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = truth[i], p = predicted[i];
    if (t == ignore_) continue;
    RTSEG_CHECK(t >= 0 && t < classes_,
                "metrics: ground-truth value {} is neither a class (0..{}) nor the ignore value {}",
                t, classes_ - 1, ignore_);
    RTSEG_CHECK(p >= 0 && p < classes_, "metrics: predicted class {} outside 0..{}", p,
                classes_ - 1);
    ++counts_[size_t(t) * classes_ + size_t(p)];
  }
}

void ConfusionMatrix::add(const Tensor& truth, const Tensor& predicted) {
  RTSEG_CHECK(truth.shape() == predicted.shape(),
              "metrics: ground truth {} and prediction {} differ in shape", truth.describe(),
              predicted.describe());
  RTSEG_CHECK(truth.dtype() == DType::I64 && predicted.dtype() == DType::I64,
              "metrics: ground truth and prediction must be int64, got {} and {}", truth.describe(),
              predicted.describe());
  const std::vector<int64_t> t = truth.to_vector<int64_t>(), p = predicted.to_vector<int64_t>();
  add(t.data(), p.data(), t.size());
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  RTSEG_CHECK(other.classes_ == classes_, "metrics: merging {} classes into {}", other.classes_,
              classes_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

uint64_t ConfusionMatrix::total() const {
  uint64_t s = 0;
  for (uint64_t c : counts_) s += c;
  return s;
}

SegmentationMetrics compute_metrics(const ConfusionMatrix& m) {
  const int n = m.num_classes();
  SegmentationMetrics s;
  s.classes.resize(size_t(n));
  uint64_t correct = 0;
  double iou_sum = 0, acc_sum = 0;
  int iou_count = 0;
  for (int c = 0; c < n; ++c) {
    uint64_t row = 0, col = 0;
    for (int k = 0; k < n; ++k) {
      row += m.at(c, k);
      col += m.at(k, c);
    }
    const uint64_t tp = m.at(c, c);
    correct += tp;
    ClassMetrics& cm = s.classes[size_t(c)];
    cm.gt_pixels = row;
    cm.predicted_pixels = col;
    if (row == 0) {
      cm.iou = cm.acc = NAN;
      continue;
    }
    cm.iou = double(tp) / double(row + col - tp);
    cm.acc = double(tp) / double(row);
    iou_sum += cm.iou;
    acc_sum += cm.acc;
    ++iou_count;
  }
  uint64_t largest = 0;
  for (const ClassMetrics& cm : s.classes) largest = std::max(largest, cm.gt_pixels);
  const uint64_t total_gt = m.total();
  s.majority_miou = iou_count ? double(largest) / double(total_gt) / iou_count : NAN;
  s.miou = iou_count ? iou_sum / iou_count : NAN;
  s.macc = iou_count ? acc_sum / iou_count : NAN;
  s.aacc = total_gt ? double(correct) / double(total_gt) : NAN;
  return s;
}

namespace {

std::string percent(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.2f}", 100 * v); }

std::string class_name(const std::vector<std::string>& names, size_t c) {
  return c < names.size() ? names[c] : fmt::format("class {}", c);
}

nlohmann::json number_or_null(double v) {
  return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

}  // namespace

std::string format_metrics_table(const SegmentationMetrics& s,
                                 const std::vector<std::string>& names) {
  size_t width = 5;
  for (size_t c = 0; c < s.classes.size(); ++c)
    width = std::max(width, class_name(names, c).size());
  std::string out = fmt::format("{:>3}  {:<{}}  {:>7}  {:>7}  {:>12}\n", "id", "class", width,
                                "IoU %", "Acc %", "GT pixels");
  for (size_t c = 0; c < s.classes.size(); ++c) {
    const ClassMetrics& m = s.classes[c];
    out += fmt::format("{:>3}  {:<{}}  {:>7}  {:>7}  {:>12}\n", c, class_name(names, c), width,
                       percent(m.iou), percent(m.acc), m.gt_pixels);
  }
  out +=
      fmt::format("mIoU {}  aAcc {}  mAcc {}\n", percent(s.miou), percent(s.aacc), percent(s.macc));
  out += fmt::format("(baseline: every pixel the most frequent class gives mIoU {})\n",
                     percent(s.majority_miou));
  return out;
}

std::string format_confusion_matrix(const ConfusionMatrix& m,
                                    const std::vector<std::string>& names) {
  const int n = m.num_classes();
  const std::string corner = "truth \\ predicted";
  size_t cell = 3, width = corner.size() - 5;  // rows start with "id  name"
  for (int r = 0; r < n; ++r) {
    width = std::max(width, class_name(names, size_t(r)).size());
    for (int c = 0; c < n; ++c) cell = std::max(cell, std::to_string(m.at(r, c)).size());
  }
  std::string out = fmt::format("{:<{}}", corner, width + 5);
  for (int c = 0; c < n; ++c) out += fmt::format(" {:>{}}", c, cell);
  out += "\n";
  for (int r = 0; r < n; ++r) {
    out += fmt::format("{:>3}  {:<{}}", r, class_name(names, size_t(r)), width);
    for (int c = 0; c < n; ++c) out += fmt::format(" {:>{}}", m.at(r, c), cell);
    out += "\n";
  }
  return out;
}

std::string metrics_json(const SegmentationMetrics& s, const ConfusionMatrix& m,
                         const std::vector<std::string>& names,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::ordered_json j;
  j["mIoU"] = number_or_null(s.miou);
  j["aAcc"] = number_or_null(s.aacc);
  j["mAcc"] = number_or_null(s.macc);
  j["majority_mIoU"] = number_or_null(s.majority_miou);
  for (const auto& [k, v] : extra) j[k] = v;
  j["ignore_index"] = m.ignore_index();
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < s.classes.size(); ++c) {
    const ClassMetrics& cm = s.classes[c];
    classes.push_back({{"id", c},
                       {"name", class_name(names, c)},
                       {"IoU", number_or_null(cm.iou)},
                       {"Acc", number_or_null(cm.acc)},
                       {"gt_pixels", cm.gt_pixels},
                       {"predicted_pixels", cm.predicted_pixels}});
  }
  j["classes"] = classes;
  nlohmann::json matrix = nlohmann::json::array();
  for (int r = 0; r < m.num_classes(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < m.num_classes(); ++c) row.push_back(m.at(r, c));
    matrix.push_back(row);
  }
  j["confusion_matrix"] = matrix;
  return j.dump(2) + "\n";
}

void write_metrics_json(const std::string& path, const SegmentationMetrics& s,
                        const ConfusionMatrix& m, const std::vector<std::string>& names,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  const std::string text = metrics_json(s, m, names, extra);
  write_file_atomically(path, std::vector<uint8_t>(text.begin(), text.end()));
}

Tensor argmax_classes(const Tensor& logits) {
  RTSEG_CHECK(logits.dim() == 4, "argmax_classes: expected N×C×H×W logits, got {}",
              logits.describe());
  const Tensor host = logits.to(Device::cpu()).to(DType::F32);
  const Tensor x = as_contiguous(host);
  const int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
  Tensor out = Tensor::empty({n, x.size(2), x.size(3)}, DType::I64);
  const float* src = x.data<float>();
  int64_t* dst = out.data<int64_t>();
  std::vector<float> best(static_cast<size_t>(plane));
  for (int64_t b = 0; b < n; ++b) {
    // Class-plane by class-plane, so every pass reads memory in order.
    const float* base = src + b * c * plane;
    int64_t* labels = dst + b * plane;
    std::copy(base, base + plane, best.begin());
    std::fill(labels, labels + plane, 0);
    for (int64_t k = 1; k < c; ++k) {
      const float* values = base + k * plane;
      for (int64_t i = 0; i < plane; ++i) {
        if (values[i] > best[size_t(i)])
          best[size_t(i)] = values[i], labels[i] = k;  // NaN never wins
      }
    }
  }
  return out;
}

}  // namespace rtseg::app
