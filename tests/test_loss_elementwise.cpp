// balanced_bce_with_logits (PIDNet's boundary loss) and mse_loss: hand-checked values with
// the positive/negative counts spelled out, PyTorch's values (the authors' weighted_bce, torch
// 1.13, float64, hard-coded), finite-difference gradients, bad input.
#include <cmath>

#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

double softplus(double v) { return std::log1p(std::exp(v)); }
double sigmoid_d(double v) { return 1 / (1 + std::exp(-v)); }

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_doubles(v, shape, DType::F64);
}

}  // namespace

TEST_CASE("balanced BCE by hand with counted weights", "[loss][bce]") {
  // One positive, three negatives: positives weigh #neg/total = 3/4, negatives #pos/total = 1/4.
  // Per element: positive → softplus(−x), negative → softplus(x); mean over all 4 elements.
  Tensor x = f64({2, -1, 0, 1}, {1, 1, 2, 2});
  Tensor t = f64({1, 0, 0, 0}, {1, 1, 2, 2});
  const double expected =
      (0.75 * softplus(-2) + 0.25 * (softplus(-1) + softplus(0) + softplus(1))) / 4;
  require_values(balanced_bce_with_logits(x, t), {expected}, 1e-15);
  // Gradient w·(σ(x) − t)/4.
  x.set_requires_grad(true);
  balanced_bce_with_logits(x, t).backward();
  require_values(x.grad(),
                 {0.75 * (sigmoid_d(2) - 1) / 4, 0.25 * sigmoid_d(-1) / 4, 0.25 * 0.5 / 4,
                  0.25 * sigmoid_d(1) / 4},
                 1e-15);
}

TEST_CASE("balanced BCE edge cases: soft targets, one-class maps, huge logits", "[loss][bce]") {
  // A target that is neither 0 nor 1 gets weight 0 (the authors select with == 1 and == 0) but
  // still counts in the mean: pos 1, neg 2 → w+ = 2/3, w− = 1/3; divide by 4.
  Tensor x = f64({2, -1, 0, 1}, {4});
  require_values(balanced_bce_with_logits(x, f64({1, 0, 0.5, 0}, {4})),
                 {(2.0 / 3 * softplus(-2) + 1.0 / 3 * (softplus(-1) + softplus(1))) / 4}, 1e-15);
  // All negatives: #pos = 0, so the negatives weigh 0 and the loss is 0; all positives likewise.
  require_values(balanced_bce_with_logits(x, f64({0, 0, 0, 0}, {4})), {0}, 0);
  require_values(balanced_bce_with_logits(x, f64({1, 1, 1, 1}, {4})), {0}, 0);
  // Nothing is 0 or 1: no weights at all (0, where the authors' 0/0 would be NaN).
  require_values(balanced_bce_with_logits(x, f64({0.5, 0.5, 0.5, 0.5}, {4})), {0}, 0);
  // Logits of ±100 in float32: softplus(100) = 100 without overflow; weights ½ each → 50.
  Tensor big = Tensor::from_doubles({100, -100}, {2});
  require_values(balanced_bce_with_logits(big, Tensor::from_doubles({0, 1}, {2})), {50}, 1e-6);
  require_values(balanced_bce_with_logits(big, Tensor::from_doubles({1, 0}, {2})), {0}, 1e-6);
}

TEST_CASE("balanced BCE matches the authors' PyTorch code", "[loss][bce][pytorch]") {
  // x = 4·sin(0.9·i + 0.2) over 2×1×3×5; target 1 where i mod 4 = 1 (8 positives, 22 negatives).
  std::vector<double> xv(30), tv(30);
  for (size_t i = 0; i < 30; ++i) {
    xv[i] = 4 * std::sin(0.9 * static_cast<double>(i) + 0.2);
    tv[i] = i % 4 == 1 ? 1 : 0;
  }
  Tensor x = f64(xv, {2, 1, 3, 5});
  x.set_requires_grad(true);
  Tensor l = balanced_bce_with_logits(x, f64(tv, {2, 1, 3, 5}));
  // The authors compute the weights as neg_num * 1.0 / sum_num, a float32 tensor (22/30 →
  // 0.73333335), which moves their float64 loss to 0.5200824773594309. These values are from
  // their code with the weights computed in float64, which is what rtseg does.
  require_values(l, {0.5200824576892873}, 1e-14);
  l.backward();
  require_values(
      x.grad(),
      {0.006122975637150255,  -0.0006727811507588826, 0.00866088060179352,   0.006422401914155235,
       0.0007077917951977802, -0.02400464897891349,   0.0006588399814414071, 0.006246763736812472,
       0.008651279032261561,  -0.000644673445595281,  0.006304106008936073,  0.000674118856851607,
       0.0001598835723593567, -0.02254253996751533,   0.006366853822308911,  0.00865789124801053,
       0.008647628755864,     -0.007443799238666506,  0.0006423433296650743, 0.00016001914245126735,
       0.0007263148206753887, -0.006615842669180052,  0.008664099860305769,  0.008640357506645569,
       0.006056374776543089,  -0.02276043974358237,   0.000160332739403735,  0.0007630852759440656,
       0.00659549502261751,   -0.0006021495287773359},
      1e-14);
}

TEST_CASE("balanced BCE gradient matches finite differences; the target gets none",
          "[loss][bce][grad]") {
  Generator gen(31);
  Tensor x = random_input({2, 1, 5, 7}, gen, -4, 4);
  std::vector<double> tv(70);
  for (auto& v : tv) v = gen.randint(4) == 0 ? 1 : 0;
  Tensor t = f64(tv, {2, 1, 5, 7});
  GradCheckOptions smooth;
  smooth.max_kink_fraction = 0.0;
  gradcheck([&](const std::vector<Tensor>& in) { return balanced_bce_with_logits(in[0], t); }, {x},
            smooth);
  // A target that requires grad is still a constant for this loss.
  Tensor tg = t.clone().set_requires_grad(true);
  x.zero_grad();
  balanced_bce_with_logits(x, tg).backward();
  REQUIRE(x.grad().defined());
  REQUIRE_FALSE(tg.grad().defined());
}

TEST_CASE("mse_loss by hand and by finite differences", "[loss][mse]") {
  // ((1−1)² + (2−0)² + (3−0)²)/3 = 13/3; d/dp = 2(p − t)/3, d/dt = −d/dp.
  Tensor p = f64({1, 2, 3}, {3}).set_requires_grad(true);
  Tensor t = f64({1, 0, 0}, {3}).set_requires_grad(true);
  Tensor l = mse_loss(p, t);
  require_values(l, {13.0 / 3}, 1e-15);
  l.backward();
  require_values(p.grad(), {0, 4.0 / 3, 2}, 1e-15);
  require_values(t.grad(), {0, -4.0 / 3, -2}, 1e-15);
  require_values(
      mse_loss(Tensor::from_doubles({1, 2, 3}, {3}), Tensor::from_doubles({1, 0, 0}, {3})),
      {13.0 / 3}, 1e-6);

  Generator gen(37);
  Tensor a = random_input({2, 1, 5, 7}, gen);
  Tensor b = random_input({2, 1, 5, 7}, gen);
  gradcheck([](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); }, {a, b});
  // Non-contiguous operands read correctly.
  Tensor base = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  require_values(mse_loss(narrow(base, 1, 0, 2), narrow(base, 1, 1, 2)), {1}, 1e-15);
}

TEST_CASE("balanced BCE and mse_loss reject bad input with the op's name",
          "[loss][bce][mse][errors]") {
  Tensor x = Tensor::zeros({1, 1, 2, 2});
  require_error(
      [&] {
        balanced_bce_with_logits(x, Tensor::zeros({1, 1, 2, 3}));
      },
      "balanced_bce_with_logits: logits is float32[1, 1, 2, 2] cpu but target is float32[1, 1, 2, "
      "3]");
  require_error(
      [&] {
        balanced_bce_with_logits(x, Tensor::zeros({1, 1, 2, 2}, DType::I64));
      },
      "balanced_bce_with_logits: target must be float32 or float64");
  require_error(
      [&] {
        balanced_bce_with_logits(x, Tensor::zeros({1, 1, 2, 2}, DType::F64));
      },
      "balanced_bce_with_logits: logits is float32");
  require_error([&] { balanced_bce_with_logits(Tensor::zeros({0}), Tensor::zeros({0})); },
                "balanced_bce_with_logits: logits is empty");
  require_error([&] { mse_loss(x, Tensor::zeros({4})); },
                "mse_loss: prediction is float32[1, 1, 2, 2]");
  require_error([&] { mse_loss(Tensor(), x); }, "mse_loss: prediction is an undefined tensor");
}
