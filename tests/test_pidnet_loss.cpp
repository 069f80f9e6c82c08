// PIDNet's full training loss (nets/pidnet_loss.h, docs/pidnet-s.md, "Training loss"): every term
// against values worked out by hand on a 3-pixel image, the auxiliary CE in both reductions, the
// plain-CE variant, the resize of the heads to the label size (align_corners = True), the
// boundary-aware label, finite-difference gradients of the total w.r.t. the three heads in float64
// (inputs guarded so that OHEM's kept set and the boundary mask cannot change under the
// perturbation), the Cityscapes weights, and bad inputs.
#include <algorithm>
#include <array>
#include <cmath>

#include "nets/pidnet_loss.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

double softplus(double z) { return std::log1p(std::exp(z)); }

// One image, two classes, three pixels in a row (N = 1, H = 1, W = 3). Values per pixel are
// listed as (class 0, class 1).
Tensor two_class(const std::vector<std::array<double, 2>>& px) {
  std::vector<double> v(6);
  for (size_t i = 0; i < 3; ++i) {
    v[i] = px[i][0];
    v[3 + i] = px[i][1];
  }
  return Tensor::from_doubles(v, {1, 2, 1, 3}, DType::F64);
}

// The hand-checked case. Class weights (0.5, 2). Labels (0, 1, ignore).
//  aux:  pixel 0 logits (0, 0)       → p_y = 1/2;  pixel 1 (0, −ln 3) → p_y = 1/4.
//  main: pixel 0 (ln 1.5, 0)         → p_y = 0.6;  pixel 1 (0, ln 19) → p_y = 0.95.
//  boundary logits (2, −1, 3), edge map (1, 0, 1).
struct HandCase {
  Tensor aux = two_class({{{0, 0}, {0, -std::log(3.0)}, {1, -1}}});
  Tensor main = two_class({{{std::log(1.5), 0}, {0, std::log(19.0)}, {0.3, 0.2}}});
  Tensor boundary = Tensor::from_doubles({2, -1, 3}, {1, 1, 1, 3}, DType::F64);
  Tensor labels = Tensor::from_vector<int64_t>({0, 1, 255}, {1, 1, 3});
  Tensor edges = Tensor::from_doubles({1, 0, 1}, {1, 1, 1, 3}, DType::F64);
  PidnetLossOptions options() const {
    PidnetLossOptions o;
    o.class_weights = Tensor::from_doubles({0.5, 2.0}, {2}, DType::F64);
    return o;
  }
};

// 20 × balanced BCE of the hand case: 2 positives, 1 negative; positives weigh 1/3, the
// negative 2/3; the mean runs over the 3 pixels.
double hand_boundary() {
  return 20.0 * ((1.0 / 3) * softplus(-2) + (2.0 / 3) * softplus(-1) + (1.0 / 3) * softplus(-3)) /
         3.0;
}

// p_y of every labelled pixel of (already resized) logits, in pixel order.
std::vector<double> target_probabilities(const Tensor& logits, const Tensor& labels) {
  const Tensor p = softmax(logits.detach(), 1);
  const std::vector<double> pv = p.to_doubles();
  const std::vector<int64_t> lv = labels.to_vector<int64_t>();
  const int64_t c = logits.size(1), hw = logits.size(2) * logits.size(3);
  std::vector<double> out;
  for (size_t i = 0; i < lv.size(); ++i) {
    if (lv[i] == 255) continue;
    const int64_t n = int64_t(i) / hw, s = int64_t(i) % hw;
    out.push_back(pv[size_t((n * c + lv[i]) * hw + s)]);
  }
  return out;
}

// OHEM's selection cannot change under a perturbation of `margin`: no probability sits near
// 0.9, and the order statistic that may set the threshold is isolated from its neighbours.
void require_stable_ohem(std::vector<double> p, double thresh, int64_t min_kept, double margin) {
  REQUIRE(!p.empty());
  std::sort(p.begin(), p.end());
  for (double v : p) REQUIRE(std::abs(v - thresh) > margin);
  const size_t k = size_t(std::min<int64_t>(min_kept, int64_t(p.size()) - 1));
  if (k > 0) REQUIRE(p[k] - p[k - 1] > margin);
  if (k + 1 < p.size()) REQUIRE(p[k + 1] - p[k] > margin);
}

}  // namespace

TEST_CASE("pidnet_loss: every term of a 3-pixel case by hand", "[pidnet_loss]") {
  HandCase h;
  const PidnetLossTerms t =
      pidnet_loss({h.aux, h.main, h.boundary}, h.labels, h.edges, h.options());
  // 0.4 × Σ w_y·nll / (N·H·W): the ignored pixel counts in the 3.
  const double aux = 0.4 * (0.5 * std::log(2.0) + 2.0 * std::log(4.0)) / 3.0;
  // OHEM with min_kept > count: threshold = max(largest p = 0.95, 0.9) = 0.95; only p = 0.6 is
  // strictly below it; plain mean of its weighted CE.
  const double main = 0.5 * -std::log(0.6);
  // Boundary-aware label: σ(2) = 0.88 > 0.8 keeps class 0; σ(−1) drops pixel 1; pixel 2 is
  // ignored anyway. OHEM on one pixel: threshold = max(0.6, 0.9); 0.6 is kept.
  const double sb = 0.5 * -std::log(0.6);
  require_values(t.aux, {aux}, 1e-12);
  require_values(t.main, {main}, 1e-12);
  require_values(t.boundary, {hand_boundary()}, 1e-12);
  require_values(t.boundary_semantic, {sb}, 1e-12);
  require_values(t.total, {aux + main + hand_boundary() + sb}, 1e-12);
  REQUIRE(t.total.shape() == Shape{});
  // named() lists the terms for the log, total last, and they add up to it.
  const auto named = t.named();
  REQUIRE(named.size() == 5);
  REQUIRE(named[0].first == "aux");
  REQUIRE(named[3].first == "boundary_semantic");
  REQUIRE(named[4].first == "total");
  double sum = 0;
  for (size_t i = 0; i < 4; ++i) sum += named[i].second.item();
  REQUIRE(sum == Approx(t.total.item()).epsilon(1e-14));
}

TEST_CASE("pidnet_loss: weighted-mean aux option, plain-CE option, term weights", "[pidnet_loss]") {
  HandCase h;
  PidnetLossOptions o = h.options();
  o.aux_reduction = AuxCeReduction::WeightedMean;
  PidnetLossTerms t = pidnet_loss({h.aux, h.main, h.boundary}, h.labels, h.edges, o);
  require_values(t.aux, {0.4 * (0.5 * std::log(2.0) + 2.0 * std::log(4.0)) / 2.5}, 1e-12);

  // Without OHEM the main and boundary-aware terms are PyTorch's weighted means.
  o.ohem = false;
  t = pidnet_loss({h.aux, h.main, h.boundary}, h.labels, h.edges, o);
  require_values(t.main, {(0.5 * -std::log(0.6) + 2.0 * -std::log(0.95)) / 2.5}, 1e-12);
  require_values(t.boundary_semantic, {-std::log(0.6)}, 1e-12);

  // Every weight scales its own term only.
  PidnetLossOptions w = h.options();
  w.aux_weight = 1.0;
  w.main_weight = 2.0;
  w.boundary_weight = 1.0;
  w.boundary_semantic_weight = 3.0;
  t = pidnet_loss({h.aux, h.main, h.boundary}, h.labels, h.edges, w);
  require_values(t.aux, {(0.5 * std::log(2.0) + 2.0 * std::log(4.0)) / 3.0}, 1e-12);
  require_values(t.main, {2.0 * 0.5 * -std::log(0.6)}, 1e-12);
  require_values(t.boundary, {hand_boundary() / 20.0}, 1e-12);
  require_values(t.boundary_semantic, {3.0 * 0.5 * -std::log(0.6)}, 1e-12);

  // Without class weights (CamVid) the same case is unweighted.
  t = pidnet_loss({h.aux, h.main, h.boundary}, h.labels, h.edges);
  require_values(t.aux, {0.4 * (std::log(2.0) + std::log(4.0)) / 3.0}, 1e-12);
  require_values(t.main, {-std::log(0.6)}, 1e-12);
}

TEST_CASE("boundary_aware_labels keeps the label where sigmoid > threshold, strictly",
          "[pidnet_loss]") {
  const Tensor labels = Tensor::from_vector<int64_t>({3, 1, 255, 2, 0, 4}, {2, 1, 3});
  // σ(ln 4) = 0.8 exactly in real numbers; ±0.01 on either side.
  const double l4 = std::log(4.0);
  Tensor logits =
      Tensor::from_doubles({l4 + 0.01, l4 - 0.01, 5, -3, 10, 0}, {2, 1, 1, 3}, DType::F64);
  logits.set_requires_grad(true);
  const Tensor out = boundary_aware_labels(logits, labels);
  REQUIRE(out.dtype() == DType::I64);
  REQUIRE(!out.requires_grad());
  REQUIRE(out.to_vector<int64_t>() == std::vector<int64_t>{3, 255, 255, 255, 0, 255});
  // Another threshold; float32 logits work the same.
  const Tensor out32 = boundary_aware_labels(logits.detach().to(DType::F32), labels, 0.4);
  REQUIRE(out32.to_vector<int64_t>() == std::vector<int64_t>{3, 1, 255, 255, 0, 4});
  require_error(
      [&] {
        boundary_aware_labels(Tensor::zeros({2, 2, 1, 3}), labels);
      },
      "boundary_aware_labels: boundary_logits must be [2, 1, 1, 3]");
}

TEST_CASE("pidnet_loss resizes every head to the label size with align_corners = True",
          "[pidnet_loss]") {
  Generator gen(3);
  const Tensor aux = rand_uniform({2, 4, 3, 4}, -2, 2, gen, DType::F64);
  const Tensor main = rand_uniform({2, 4, 3, 4}, -2, 2, gen, DType::F64);
  const Tensor bd = rand_uniform({2, 1, 3, 4}, -3, 3, gen, DType::F64);
  std::vector<int64_t> lv(2 * 7 * 9);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = i % 11 == 0 ? 255 : int64_t(gen.randint(4));
  const Tensor labels = Tensor::from_vector<int64_t>(lv, {2, 7, 9});
  const Tensor edges = rand_uniform({2, 1, 7, 9}, 0, 1, gen, DType::F64);  // not 0/1: weighs 0
  PidnetLossOptions o;
  o.ohem_min_kept = 20;
  const PidnetLossTerms t = pidnet_loss({aux, main, bd}, labels, edges, o);
  auto up = [](const Tensor& x, bool ac) { return interpolate_bilinear(x, 7, 9, ac); };
  const PidnetLossTerms by_hand =
      pidnet_loss({up(aux, true), up(main, true), up(bd, true)}, labels, edges, o);
  require_close(t.total, by_hand.total, 1e-14, 0);
  require_close(t.aux, by_hand.aux, 1e-14, 0);
  require_close(t.boundary_semantic, by_hand.boundary_semantic, 1e-14, 0);
  // align_corners = False is a different (wrong for PIDNet) resize: the option is honoured.
  o.align_corners = false;
  const PidnetLossTerms other = pidnet_loss({aux, main, bd}, labels, edges, o);
  const PidnetLossTerms other_hand =
      pidnet_loss({up(aux, false), up(main, false), up(bd, false)}, labels, edges, o);
  require_close(other.total, other_hand.total, 1e-14, 0);
  REQUIRE(std::abs(other.aux.item() - t.aux.item()) > 1e-6);
}

TEST_CASE("pidnet_loss: the boundary target may be float32 or N×H×W, and it gets no gradient",
          "[pidnet_loss]") {
  HandCase h;
  Tensor edges32 = h.edges.to(DType::F32);
  edges32.set_requires_grad(true);
  const PidnetLossTerms a =
      pidnet_loss({h.aux, h.main, h.boundary}, h.labels, edges32, h.options());
  const PidnetLossTerms b =
      pidnet_loss({h.aux, h.main, h.boundary}, h.labels, reshape(h.edges, {1, 1, 3}), h.options());
  require_values(a.boundary, {hand_boundary()}, 1e-12);
  require_values(b.boundary, {hand_boundary()}, 1e-12);
  REQUIRE(a.total.dtype() == DType::F64);
  // The edge map is a constant of the loss: no path leads back to it.
  REQUIRE(!a.total.requires_grad());
}

TEST_CASE("pidnet_loss: nothing confident on the boundary → the boundary-aware term is 0",
          "[pidnet_loss]") {
  HandCase h;
  Tensor boundary = Tensor::from_doubles({-2, -1, -3}, {1, 1, 1, 3}, DType::F64);
  Tensor main = h.main.clone();
  main.set_requires_grad(true);
  const PidnetLossTerms t = pidnet_loss({h.aux, main, boundary}, h.labels, h.edges, h.options());
  require_values(t.boundary_semantic, {0.0}, 0);
  REQUIRE(std::isfinite(t.total.item()));
  t.total.backward();
  for (double g : main.grad().to_doubles()) REQUIRE(std::isfinite(g));
}

TEST_CASE("pidnet_loss: gradients of the total w.r.t. the three heads (float64 finite differences)",
          "[pidnet_loss]") {
  Generator gen(21);
  // Heads at 3×4, labels at 7×9. Half the labels are the main head's own argmax, which with
  // logits in ±6 is often confident (p > 0.9, dropped by OHEM); the others are random.
  const Tensor aux = random_input({2, 4, 3, 4}, gen, -3, 3);
  const Tensor main = random_input({2, 4, 3, 4}, gen, -6, 6);
  const Tensor bd = random_input({2, 1, 3, 4}, gen, -4, 4);
  const std::vector<double> up = interpolate_bilinear(main.detach(), 7, 9, true).to_doubles();
  std::vector<int64_t> lv(2 * 7 * 9);
  for (size_t i = 0; i < lv.size(); ++i) {
    const size_t n = i / 63, s = i % 63;
    int64_t best = 0;
    for (int64_t c = 1; c < 4; ++c) {
      if (up[(n * 4 + size_t(c)) * 63 + s] > up[(n * 4 + size_t(best)) * 63 + s]) best = c;
    }
    lv[i] = i % 13 == 5 ? 255 : i % 2 == 0 ? best : int64_t(gen.randint(4));
  }
  const Tensor labels = Tensor::from_vector<int64_t>(lv, {2, 7, 9});
  std::vector<double> ev(lv.size());
  for (size_t i = 0; i < ev.size(); ++i) ev[i] = double(gen.randint(3) == 0);
  const Tensor edges = Tensor::from_doubles(ev, {2, 1, 7, 9}, DType::F64);
  PidnetLossOptions o;
  o.class_weights = Tensor::from_doubles({0.8, 1.1, 0.9, 1.3}, {4}, DType::F64);
  o.ohem_min_kept = 20;

  // Guards: the kept sets and the boundary mask are the same for every perturbed evaluation.
  const Tensor main_up = interpolate_bilinear(main.detach(), 7, 9, true);
  const Tensor bd_up = interpolate_bilinear(bd.detach(), 7, 9, true);
  for (double v : bd_up.to_doubles()) REQUIRE(std::abs(v - std::log(4.0)) > 1e-4);
  const Tensor sb_labels = boundary_aware_labels(bd_up, labels);
  const std::vector<double> p_main = target_probabilities(main_up, labels);
  const std::vector<double> p_sb = target_probabilities(main_up, sb_labels);
  require_stable_ohem(p_main, 0.9, o.ohem_min_kept, 1e-4);
  require_stable_ohem(p_sb, 0.9, o.ohem_min_kept, 1e-4);
  // ... and the case is not degenerate: OHEM drops some pixels and keeps others.
  const auto confident =
      std::count_if(p_main.begin(), p_main.end(), [](double p) { return p > 0.9; });
  REQUIRE(confident > 0);
  REQUIRE(confident < int64_t(p_main.size()) - 20);
  REQUIRE(p_sb.size() > 3);

  gradcheck(
      [&](const std::vector<Tensor>& in) {
        return pidnet_loss({in[0], in[1], in[2]}, labels, edges, o).total;
      },
      {aux, main, bd});
  // The authors' other reductions: weighted-mean aux, no OHEM.
  o.aux_reduction = AuxCeReduction::WeightedMean;
  o.ohem = false;
  gradcheck(
      [&](const std::vector<Tensor>& in) {
        return pidnet_loss({in[0], in[1], in[2]}, labels, edges, o).total;
      },
      {aux, main, bd});
}

TEST_CASE("Cityscapes class weights are PIDNet's 19 values in trainId order", "[pidnet_loss]") {
  const Tensor w = cityscapes_class_weights();
  REQUIRE(w.shape() == Shape{19});
  REQUIRE(w.dtype() == DType::F32);
  const std::vector<double> v = cityscapes_class_weights(DType::F64).to_doubles();
  REQUIRE(v[0] == 0.8373);   // road
  REQUIRE(v[12] == 1.1116);  // rider
  REQUIRE(v[17] == 1.1529);  // motorcycle
  REQUIRE(v[18] == 1.0507);  // bicycle
  double sum = 0;
  for (double x : v) sum += x;
  REQUIRE(sum == Approx(19.0001).margin(1e-9));
  // The per-dataset options: Cityscapes weighted, CamVid not.
  REQUIRE(pidnet_loss_options("cityscapes").class_weights.to_doubles() ==
          cityscapes_class_weights().to_doubles());
  REQUIRE(!pidnet_loss_options("camvid").class_weights.defined());
  REQUIRE(pidnet_loss_options("camvid").ohem_min_kept == 131072);
}

TEST_CASE("pidnet_loss rejects malformed heads, labels and edge maps", "[pidnet_loss]") {
  HandCase h;
  const Tensor three_class = Tensor::zeros({1, 3, 1, 3}, DType::F64);
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main}, h.labels, h.edges);
      },
      "pidnet_loss: expected the training graph's 3 heads");
  require_error(
      [&] {
        pidnet_loss({h.aux, three_class, h.boundary}, h.labels, h.edges);
      },
      "pidnet_loss: aux logits have 2 classes but main logits have 3");
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main, h.main}, h.labels, h.edges);
      },
      "pidnet_loss: boundary logits must have 1 channel");
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main, h.boundary}, h.edges, h.edges);
      },
      "pidnet_loss: labels must be an N×H×W int64 map");
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main, h.boundary}, h.labels, Tensor::zeros({1, 1, 2, 3}, DType::F64));
      },
      "pidnet_loss: boundary_gt must be [1, 1, 1, 3]");
  require_error(
      [&] {
        pidnet_loss({Tensor::zeros({2, 2, 1, 3}, DType::F64), h.main, h.boundary}, h.labels,
                    h.edges);
      },
      "pidnet_loss: aux logits has 2 images but labels have 1");
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main.to(DType::F32), h.boundary}, h.labels, h.edges);
      },
      "pidnet_loss: aux logits is");
  require_error(
      [&] {
        pidnet_loss({h.aux, Tensor(), h.boundary}, h.labels, h.edges);
      },
      "pidnet_loss: main logits is an undefined tensor");
  const Tensor bad_label = Tensor::from_vector<int64_t>({0, 7, 255}, {1, 1, 3});
  require_error(
      [&] {
        pidnet_loss({h.aux, h.main, h.boundary}, bad_label, h.edges);
      },
      "target value 7");
}
