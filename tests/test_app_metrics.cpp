// Segmentation metrics against a confusion matrix worked out by hand, nan for classes absent from
// the ground truth, the table and metrics.json, and the argmax that turns logits into classes.
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/lib/metrics.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;

namespace {

// 4 classes, ignore 255. Ground truth / prediction pairs, 12 pixels:
//   gt 0: predicted 0,0,0,1      → M[0] = {3, 1, 0, 0}
//   gt 1: predicted 1,1,2        → M[1] = {0, 2, 1, 0}
//   gt 2: predicted 0,2          → M[2] = {1, 0, 1, 0}
//   gt 255 (ignored): predicted 3, 1, 0
// Class 3 never occurs in the ground truth (but is predicted once, at an ignored pixel, which
// does not count).
ConfusionMatrix hand_matrix() {
  const std::vector<int64_t> gt{0, 0, 0, 0, 1, 1, 1, 2, 2, 255, 255, 255};
  const std::vector<int64_t> pr{0, 0, 0, 1, 1, 1, 2, 0, 2, 3, 1, 0};
  ConfusionMatrix m(4, 255);
  m.add(Tensor::from_vector(gt, {1, 3, 4}), Tensor::from_vector(pr, {1, 3, 4}));
  return m;
}

}  // namespace

TEST_CASE("metrics: a hand-computed confusion matrix", "[app][metrics]") {
  const ConfusionMatrix m = hand_matrix();
  REQUIRE(m.at(0, 0) == 3);
  REQUIRE(m.at(0, 1) == 1);
  REQUIRE(m.at(1, 1) == 2);
  REQUIRE(m.at(1, 2) == 1);
  REQUIRE(m.at(2, 0) == 1);
  REQUIRE(m.at(2, 2) == 1);
  REQUIRE(m.total() == 9);
  for (int r = 0; r < 4; ++r) REQUIRE(m.at(r, 3) == 0);

  const SegmentationMetrics s = compute_metrics(m);
  // IoU = TP / (TP + FP + FN):  class 0: 3 / (3 + 1 + 1) = 0.6;  class 1: 2 / (2 + 1 + 1) = 0.5;
  // class 2: 1 / (1 + 1 + 1) = 1/3;  class 3: absent from the ground truth → nan.
  REQUIRE(s.classes[0].iou == Approx(0.6));
  REQUIRE(s.classes[1].iou == Approx(0.5));
  REQUIRE(s.classes[2].iou == Approx(1.0 / 3));
  REQUIRE(std::isnan(s.classes[3].iou));
  // Acc = TP / (TP + FN): 3/4, 2/3, 1/2, nan.
  REQUIRE(s.classes[0].acc == Approx(0.75));
  REQUIRE(s.classes[1].acc == Approx(2.0 / 3));
  REQUIRE(s.classes[2].acc == Approx(0.5));
  REQUIRE(std::isnan(s.classes[3].acc));
  REQUIRE(s.miou == Approx((0.6 + 0.5 + 1.0 / 3) / 3));
  REQUIRE(s.macc == Approx((0.75 + 2.0 / 3 + 0.5) / 3));
  REQUIRE(s.aacc == Approx(6.0 / 9));
  // Predicting class 0 (4 of the 9 pixels) everywhere: IoU 4/9 for it, 0 for the 2 others.
  REQUIRE(s.majority_miou == Approx(4.0 / 9 / 3));
  REQUIRE(s.classes[0].gt_pixels == 4);
  REQUIRE(s.classes[0].predicted_pixels == 4);
  REQUIRE(s.classes[3].predicted_pixels == 0);
}

TEST_CASE("metrics: merging equals counting together, and bad values are errors",
          "[app][metrics]") {
  ConfusionMatrix a = hand_matrix(), b = hand_matrix();
  a.merge(b);
  REQUIRE(a.at(0, 0) == 6);
  REQUIRE(compute_metrics(a).miou == Approx(compute_metrics(b).miou));
  ConfusionMatrix m(3, 255);
  const int64_t bad_gt[] = {3}, ok_pred[] = {0}, ok_gt[] = {1}, bad_pred[] = {-1};
  require_error([&] { m.add(bad_gt, ok_pred, 1); },
                "ground-truth value 3 is neither a class (0..2) nor the ignore value 255");
  require_error([&] { m.add(ok_gt, bad_pred, 1); }, "predicted class -1 outside 0..2");
  require_error([&] { m.merge(ConfusionMatrix(4, 255)); }, "merging 4 classes into 3");
  require_error([&] { m.add(Tensor::zeros({2}, DType::I64), Tensor::zeros({3}, DType::I64)); },
                "differ in shape");
  // An empty matrix has nan everywhere rather than zeros.
  const SegmentationMetrics empty = compute_metrics(ConfusionMatrix(2, 255));
  REQUIRE(std::isnan(empty.miou));
  REQUIRE(std::isnan(empty.aacc));
}

TEST_CASE("metrics: the table, the matrix and metrics.json", "[app][metrics]") {
  const ConfusionMatrix m = hand_matrix();
  const SegmentationMetrics s = compute_metrics(m);
  const std::vector<std::string> names{"road", "car", "sky", "bus"};
  const std::string table = format_metrics_table(s, names);
  REQUIRE(table.find("road") != std::string::npos);
  REQUIRE(table.find("60.00") != std::string::npos);
  REQUIRE(table.find("bus") != std::string::npos);
  REQUIRE(table.find("nan") != std::string::npos);
  REQUIRE(table.find("mIoU 47.78  aAcc 66.67  mAcc 63.89") != std::string::npos);
  REQUIRE(table.find("most frequent class gives mIoU 14.81") != std::string::npos);
  const std::string matrix = format_confusion_matrix(m, names);
  // Row "  0  road   3   1   0   0": the counts of ground-truth road per predicted class.
  const size_t row = matrix.find("  0  road ");
  REQUIRE(row != std::string::npos);
  std::istringstream counts(matrix.substr(row + 10, matrix.find('\n', row) - row - 10));
  std::vector<int> values{std::istream_iterator<int>(counts), std::istream_iterator<int>()};
  REQUIRE(values == std::vector<int>{3, 1, 0, 0});
  REQUIRE(matrix.rfind("truth \\ predicted", 0) == 0);

  TempDir dir;
  const std::string path = dir.path("metrics.json");
  write_metrics_json(path, s, m, names, {{"split", "val"}});
  const auto bytes = data::read_file(path);
  const nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
  REQUIRE(j["mIoU"].get<double>() == Approx(s.miou));
  REQUIRE(j["aAcc"].get<double>() == Approx(6.0 / 9));
  REQUIRE(j["majority_mIoU"].get<double>() == Approx(4.0 / 27));
  REQUIRE(j["split"] == "val");
  REQUIRE(j["classes"].size() == 4);
  REQUIRE(j["classes"][0]["name"] == "road");
  REQUIRE(j["classes"][2]["IoU"].get<double>() == Approx(1.0 / 3));
  REQUIRE(j["classes"][3]["IoU"].is_null());  // nan → null
  REQUIRE(j["confusion_matrix"][1] == nlohmann::json({0, 2, 1, 0}));
}

TEST_CASE("argmax_classes picks the largest logit per pixel, the lower class on ties",
          "[app][metrics]") {
  // N=1, C=3, 1×4 pixels: logits per pixel (c0, c1, c2).
  const Tensor logits = Tensor::from_vector<float>({1, 5, 0, 2,   //
                                                    3, 5, 1, 2,   //
                                                    2, 0, 4, 2},  //
                                                   {1, 3, 1, 4});
  REQUIRE(argmax_classes(logits).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 2, 0});
  require_error([] { argmax_classes(Tensor::zeros({3, 4})); }, "expected N×C×H×W logits");
}
