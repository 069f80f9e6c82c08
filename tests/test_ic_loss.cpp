// ICFRNet's IC loss and full objective (nets/ic_loss.h; docs/icfrnet.md, "IC loss" and
// "Full loss"): MSE and temperature-KL terms by hand, the a/b/T options, batchmean,
// upsample-then-sigmoid, the teacher held constant, the complexity-weighted CE ablation by hand,
// the ICFRNet total and its parts, finite-difference gradients in float64, bad inputs.
#include <cmath>
#include <utility>

#include "nets/ic_loss.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// KL(softmax(t/T) ‖ softmax(s/T)) over the listed positions of one image.
double kl_softmax(const std::vector<double>& s, const std::vector<double>& t, double temp) {
  double zs = 0, zt = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    zs += std::exp(s[i] / temp);
    zt += std::exp(t[i] / temp);
  }
  double kl = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const double pt = std::exp(t[i] / temp) / zt, ps = std::exp(s[i] / temp) / zs;
    kl += pt * (std::log(pt) - std::log(ps));
  }
  return kl;
}

}  // namespace

TEST_CASE("ic_loss: a·MSE + b·T²·KL of a 2-pixel map by hand", "[ic_loss]") {
  // Logits at the teacher's size (no resize): Î = σ(0), σ(ln 3) = 0.5, 0.75.
  const Tensor logits = Tensor::from_doubles({0.0, std::log(3.0)}, {1, 1, 1, 2}, DType::F64);
  const Tensor teacher = Tensor::from_doubles({0.2, 0.6}, {1, 1, 1, 2}, DType::F64);
  const IcLossTerms t = ic_loss(logits, teacher);
  const double mse = (0.3 * 0.3 + 0.15 * 0.15) / 2;
  const double kl = kl_softmax({0.5, 0.75}, {0.2, 0.6}, 0.6);
  require_values(t.prediction, {0.5, 0.75}, 1e-15);
  require_values(t.mse, {mse}, 1e-14);
  require_values(t.kl, {10.0 * 0.36 * kl}, 1e-14);
  require_values(t.total, {mse + 3.6 * kl}, 1e-14);
  const auto named = t.named();
  REQUIRE(named.size() == 3);
  REQUIRE(named[0].first == "ic_mse");
  REQUIRE(named[1].first == "ic_kl");
  REQUIRE(named[2].first == "ic_total");

  // a, b and T are options; the T² factor follows T.
  IcLossOptions o;
  o.mse_weight = 3.0;
  o.kl_weight = 0.5;
  o.temperature = 2.0;
  const IcLossTerms u = ic_loss(logits, teacher, o);
  require_values(u.mse, {3.0 * mse}, 1e-14);
  require_values(u.kl, {0.5 * 4.0 * kl_softmax({0.5, 0.75}, {0.2, 0.6}, 2.0)}, 1e-14);
}

TEST_CASE("ic_loss: KL is summed per image and divided by the batch size (batchmean)",
          "[ic_loss]") {
  const Tensor one = Tensor::from_doubles({0.3, -1.0, 2.0}, {1, 1, 1, 3}, DType::F64);
  const Tensor t1 = Tensor::from_doubles({0.1, 0.5, 0.9}, {1, 1, 1, 3}, DType::F64);
  const Tensor two = concat({one, one}, 0), t2 = concat({t1, t1}, 0);
  const IcLossTerms a = ic_loss(one, t1), b = ic_loss(two, t2);
  require_close(b.kl, a.kl, 1e-14, 0);
  require_close(b.mse, a.mse, 1e-14, 0);
  // The softmax runs over each image's own positions: a second, different image adds its own KL.
  const Tensor other = Tensor::from_doubles({1.0, 0.0, -1.0}, {1, 1, 1, 3}, DType::F64);
  const IcLossTerms c = ic_loss(concat({one, other}, 0), t2);
  const double kl_one =
      kl_softmax({sigmoid_d(0.3), sigmoid_d(-1), sigmoid_d(2)}, {0.1, 0.5, 0.9}, 0.6);
  const double kl_other =
      kl_softmax({sigmoid_d(1), sigmoid_d(0), sigmoid_d(-1)}, {0.1, 0.5, 0.9}, 0.6);
  require_values(c.kl, {10.0 * 0.36 * (kl_one + kl_other) / 2}, 1e-14);
}

TEST_CASE("ic_prediction upsamples the logits first, then applies the sigmoid", "[ic_loss]") {
  const Tensor logits = Tensor::from_doubles({-3, 3, 2, -4}, {1, 1, 2, 2}, DType::F64);
  const Tensor p = ic_prediction(logits, 5, 7);
  REQUIRE(p.shape() == Shape{1, 1, 5, 7});
  require_close(p, sigmoid(interpolate_bilinear(logits, 5, 7, false)), 0, 1e-15);
  // Not the same as resizing the sigmoid map (the sigmoid curves between the taps).
  const Tensor other = interpolate_bilinear(sigmoid(logits), 5, 7, false);
  REQUIRE(closeness(p, other, 0, 1e-3) > 1.0);
  // align_corners is an option (ICTNet's default is False).
  require_close(ic_prediction(logits, 5, 7, true),
                sigmoid(interpolate_bilinear(logits, 5, 7, true)), 0, 1e-15);
  // The loss works at the teacher map's size.
  const Tensor teacher = Tensor::full({1, 1, 5, 7}, 0.5, DType::F64);
  REQUIRE(ic_loss(logits, teacher).prediction.shape() == Shape{1, 1, 5, 7});
  // An N×H×W teacher map is accepted too.
  require_close(ic_loss(logits, reshape(teacher, {1, 5, 7})).total, ic_loss(logits, teacher).total,
                0, 0);
}

TEST_CASE("ic_loss: the teacher is a constant (no gradient reaches it)", "[ic_loss]") {
  Generator gen(8);
  const Tensor logits = random_input({2, 1, 3, 4}, gen);
  Tensor teacher = random_input({2, 1, 6, 8}, gen, 0, 1);
  const IcLossTerms t = ic_loss(logits, teacher);
  t.total.backward();
  REQUIRE(logits.grad().defined());
  REQUIRE(!teacher.grad().defined());
}

TEST_CASE("ic_loss: gradients w.r.t. the IC logits (float64 finite differences)", "[ic_loss]") {
  Generator gen(12);
  const Tensor logits = random_input({2, 1, 3, 4}, gen, -2, 2);
  const Tensor teacher = rand_uniform({2, 1, 7, 9}, 0.05, 0.95, gen, DType::F64);
  gradcheck([&](const std::vector<Tensor>& in) { return ic_loss(in[0], teacher).total; }, {logits});
  IcLossOptions o;
  o.temperature = 0.3;
  o.align_corners = true;
  gradcheck([&](const std::vector<Tensor>& in) { return ic_loss(in[0], teacher, o).total; },
            {logits});
}

TEST_CASE("complexity_weighted_cross_entropy: Σ (1 + γc)·w_y·nll / (N·H·W) by hand", "[ic_loss]") {
  // Two classes, three pixels: p_y = 0.6 (class 0), 0.95 (class 1), ignored.
  const Tensor logits = Tensor::from_doubles({std::log(1.5), 0, 0.3, 0, std::log(19.0), 0.2},
                                             {1, 2, 1, 3}, DType::F64);
  const Tensor labels = Tensor::from_vector<int64_t>({0, 1, 255}, {1, 1, 3});
  const Tensor c = Tensor::from_doubles({0.5, 1.0, 0.3}, {1, 1, 1, 3}, DType::F64);
  const Tensor w = Tensor::from_doubles({0.5, 2.0}, {2}, DType::F64);
  const double nll0 = -std::log(0.6), nll1 = -std::log(0.95);
  require_values(complexity_weighted_cross_entropy(logits, labels, c, 2.0, w),
                 {(2.0 * 0.5 * nll0 + 3.0 * 2.0 * nll1) / 3.0}, 1e-14);
  // γ = 0: PIDNet's auxiliary CE form; float32 maps are accepted and detached.
  Tensor c32 = c.to(DType::F32);
  c32.set_requires_grad(true);
  const Tensor plain = complexity_weighted_cross_entropy(logits, labels, c32, 0.0);
  require_values(plain, {(nll0 + nll1) / 3.0}, 1e-14);
  REQUIRE(!plain.requires_grad());
  // Gradient to the logits.
  Generator gen(6);
  const Tensor x = random_input({2, 3, 4, 5}, gen, -2, 2);
  std::vector<int64_t> lv(40);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = i % 7 == 3 ? 255 : int64_t(gen.randint(3));
  const Tensor lab = Tensor::from_vector<int64_t>(lv, {2, 4, 5});
  const Tensor cm = rand_uniform({2, 1, 4, 5}, 0, 1, gen, DType::F64);
  gradcheck(
      [&](const std::vector<Tensor>& in) {
        return complexity_weighted_cross_entropy(in[0], lab, cm, 1.5);
      },
      {x});
}

TEST_CASE("icfrnet_loss = seg weight × PIDNet loss + IC weight × IC loss (+ ablation term)",
          "[ic_loss]") {
  Generator gen(17);
  // Small logits: every p_y < 0.9, so OHEM keeps every labelled pixel whatever the perturbation.
  const Tensor aux = random_input({2, 3, 3, 4}, gen, -1, 1);
  const Tensor main = random_input({2, 3, 3, 4}, gen, -1, 1);
  const Tensor bd = random_input({2, 1, 3, 4}, gen, -4, 4);
  const Tensor ic = random_input({2, 1, 3, 4}, gen, -2, 2);
  std::vector<int64_t> lv(2 * 6 * 7);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = i % 9 == 4 ? 255 : int64_t(gen.randint(3));
  const Tensor labels = Tensor::from_vector<int64_t>(lv, {2, 6, 7});
  std::vector<double> ev(lv.size());
  for (size_t i = 0; i < ev.size(); ++i) ev[i] = double(gen.randint(4) == 0);
  const Tensor edges = Tensor::from_doubles(ev, {2, 1, 6, 7}, DType::F64);
  const Tensor complexity = rand_uniform({2, 1, 6, 7}, 0, 1, gen, DType::F64);
  for (double v : interpolate_bilinear(bd.detach(), 6, 7, true).to_doubles()) {
    REQUIRE(std::abs(v - std::log(4.0)) > 1e-4);  // the boundary mask is stable
  }

  IcfrnetLossOptions o;
  o.segmentation_weight = 0.5;
  o.ic_weight = 2.0;
  o.complexity_ce_weight = 0.3;
  o.complexity_ce_gamma = 1.5;
  const IcfrnetLossTerms t = icfrnet_loss({aux, main, bd}, ic, labels, edges, complexity, o);
  const PidnetLossTerms seg = pidnet_loss({aux, main, bd}, labels, edges, o.segmentation);
  const IcLossTerms icl = ic_loss(ic, complexity, o.ic);
  const Tensor cwce = complexity_weighted_cross_entropy(interpolate_bilinear(main, 6, 7, true),
                                                        labels, complexity, 1.5);
  const double expected = 0.5 * seg.total.item() + 2.0 * icl.total.item() + 0.3 * cwce.item();
  require_values(t.total, {expected}, 1e-13);
  require_values(t.segmentation.aux, {0.5 * seg.aux.item()}, 1e-13);
  require_values(t.ic.kl, {2.0 * icl.kl.item()}, 1e-13);
  require_values(t.complexity_ce, {0.3 * cwce.item()}, 1e-13);
  std::vector<std::string> names;
  double parts = 0;
  for (const auto& [name, value] : t.named()) {
    names.push_back(name);
    if (name == "segmentation" || name == "ic_total" || name == "complexity_ce")
      parts += value.item();
  }
  REQUIRE(names == std::vector<std::string>{"aux", "main", "boundary", "boundary_semantic",
                                            "segmentation", "ic_mse", "ic_kl", "ic_total",
                                            "complexity_ce", "total"});
  REQUIRE(parts == Approx(t.total.item()).epsilon(1e-13));

  // Gradients of the whole objective w.r.t. the four heads.
  gradcheck(
      [&](const std::vector<Tensor>& in) {
        return icfrnet_loss({in[0], in[1], in[2]}, in[3], labels, edges, complexity, o).total;
      },
      {aux, main, bd, ic});

  // IC term off: the IC logits may be absent (PIDNet + complexity-weighted CE ablation).
  IcfrnetLossOptions off;
  off.ic_weight = 0.0;
  off.complexity_ce_weight = 1.0;
  const IcfrnetLossTerms u =
      icfrnet_loss({aux, main, bd}, Tensor(), labels, edges, complexity, off);
  REQUIRE(!u.ic.total.defined());
  REQUIRE(u.named().size() == 7);
  // Defaults: the IC term in, the ablation out.
  const IcfrnetLossTerms d = icfrnet_loss({aux, main, bd}, ic, labels, edges, complexity);
  REQUIRE(!d.complexity_ce.defined());
  require_values(d.total, {seg.total.item() + icl.total.item()}, 1e-13);
}

TEST_CASE("ic_loss and icfrnet_loss reject malformed inputs", "[ic_loss]") {
  const Tensor logits = Tensor::zeros({1, 1, 2, 2}, DType::F64);
  const Tensor teacher = Tensor::zeros({1, 1, 4, 4}, DType::F64);
  require_error(
      [&] {
        ic_loss(Tensor::zeros({1, 2, 2, 2}, DType::F64), teacher);
      },
      "ic_prediction: ic_logits must be N×1×h×w");
  require_error(
      [&] {
        ic_loss(logits, Tensor::zeros({2, 1, 4, 4}, DType::F64));
      },
      "ic_loss: teacher_map must be [1, 1, 4, 4]");
  require_error(
      [&] {
        ic_loss(logits, Tensor::zeros({4, 4}, DType::F64));
      },
      "ic_loss: teacher_map must be N×1×H×W or N×H×W");
  IcLossOptions o;
  o.temperature = 0;
  require_error([&] { ic_loss(logits, teacher, o); }, "ic_loss: temperature must be positive");
  const Tensor labels = Tensor::from_vector<int64_t>({0, 1, 0, 1}, {1, 2, 2});
  require_error(
      [&] {
        complexity_weighted_cross_entropy(Tensor::zeros({1, 2, 2, 2}), labels,
                                          Tensor::zeros({1, 1, 3, 2}));
      },
      "complexity_weighted_cross_entropy: complexity must be [1, 1, 2, 2]");
  const Tensor head = Tensor::zeros({1, 2, 2, 2}, DType::F64),
               bd = Tensor::zeros({1, 1, 2, 2}, DType::F64);
  require_error(
      [&] {
        icfrnet_loss({head, head, bd}, logits, labels, bd, Tensor());
      },
      "icfrnet_loss: the IC term needs a complexity map");
}
