// kl_div_softmax (docs/icfrnet.md, "IC loss"): hand-checked value and gradient, PyTorch's values
// (F.kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T², torch 1.13, float64, hard-coded),
// finite-difference gradients, the teacher receiving no gradient, bad input.
#include <cmath>

#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_doubles(v, shape, DType::F64);
}

// s·sin(a·i + b) over the flat index (the oracle script builds the same input).
Tensor pattern(const Shape& shape, double a, double b, double s) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = s * std::sin(a * static_cast<double>(i) + b);
  return f64(v, shape);
}

}  // namespace

TEST_CASE("kl_div_softmax by hand", "[loss][kl]") {
  // T = 2. Image 0: student (0, 0) → p_s = (½, ½); teacher (0, 2 ln 3) → t/T = (0, ln 3) →
  // p_t = (¼, ¾). KL = ¼ ln(¼/½) + ¾ ln(¾/½). Image 1: identical maps → 0.
  // Loss = T²/N · (KL₀ + 0) = 4/2 · KL₀.
  Tensor s = f64({0, 0, 1, 2}, {2, 1, 1, 2});
  Tensor t = f64({0, 2 * std::log(3.0), 1, 2}, {2, 1, 1, 2});
  const double kl0 = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
  require_values(kl_div_softmax(s, t, 2.0), {2 * kl0}, 1e-15);
  // N×H×W maps work the same.
  require_values(kl_div_softmax(reshape(s, {2, 1, 2}), reshape(t, {2, 1, 2}), 2.0), {2 * kl0},
                 1e-15);
  // Gradient T/N·(p_s − p_t) = 2/2 · ((½, ½) − (¼, ¾)) for image 0, 0 for image 1.
  s.set_requires_grad(true);
  kl_div_softmax(s, t, 2.0).backward();
  require_values(s.grad(), {0.25, -0.25, 0, 0}, 1e-15);
  // Equal maps give 0 at any temperature; float32 works.
  require_values(kl_div_softmax(t, t, 0.6), {0}, 1e-15);
  require_values(kl_div_softmax(s.detach().to(DType::F32), t.to(DType::F32), 2.0), {2 * kl0}, 1e-6);
}

TEST_CASE("kl_div_softmax matches PyTorch", "[loss][kl][pytorch]") {
  Tensor s = pattern({2, 1, 3, 4}, 0.5, 0.1, 1.5);
  Tensor t = pattern({2, 1, 3, 4}, 1.1, 0.7, 1.0);
  struct Case {
    double temperature, loss;
    std::vector<double> grad;
  };
  const Case cases[] = {
      {0.6,
       0.5644662774323509,
       {-0.030560052110332483, -0.0392106175932803,    0.04745145115577995,
        0.08501146292792276,   0.0602858328488725,     0.014615975332620336,
        -0.048209357621422755, -0.054288913384828545,  -0.011096226433381986,
        -0.002322633093820415, -0.0031109849433489053, -0.01856593708478013,
        -0.0599644759739344,   -0.021912746787844495,  0.038287275488201856,
        0.0794414391239055,    0.07692041626579275,    0.015103222852100197,
        -0.05114171574174406,  -0.019418224080641082,  -0.0027928787311344784,
        -0.001805142885942082, -0.008095806110294628,  -0.04462136341846511}},
      {2.0,
       0.7700856367456487,
       {-0.02992420570466249,  -0.01689497177206116,  0.052371214708140865, 0.09857086760247888,
        0.08812684780637614,   0.031042263559372896,  -0.04487456390699665, -0.06765124868859015,
        -0.036004524636725,    -0.01494016364809661,  -0.0172628513284694,  -0.04255866399076705,
        -0.06226524758858641,  -0.015891533168177,    0.05995736359192522,  0.10087832336478758,
        0.08864040183112802,   0.024260334999176084,  -0.03542946763609174, -0.03006422549905441,
        -0.010665075324291541, -0.011400284160395242, -0.03439711718993674, -0.07362347322048382}}};
  for (const Case& c : cases) {
    INFO("T = " << c.temperature);
    Tensor sg = s.clone().set_requires_grad(true);
    Tensor l = kl_div_softmax(sg, t, c.temperature);
    require_values(l, {c.loss}, 1e-14);
    l.backward();
    require_values(sg.grad(), c.grad, 1e-14);
  }
}

TEST_CASE("kl_div_softmax gradient; the teacher receives none", "[loss][kl][grad]") {
  Generator gen(41);
  Tensor s = random_input({2, 1, 5, 7}, gen, -2, 2);
  Tensor t = rand_uniform({2, 1, 5, 7}, 0, 1, gen, DType::F64);
  GradCheckOptions smooth;
  smooth.max_kink_fraction = 0.0;
  for (double temperature : {0.6, 1.0, 3.0}) {
    INFO("T = " << temperature);
    gradcheck([&](const std::vector<Tensor>& in) { return kl_div_softmax(in[0], t, temperature); },
              {s}, smooth);
  }
  // The teacher is a constant of this loss: even when it requires grad it is not an input of
  // the recorded node, so its gradient stays undefined (not zero).
  Tensor tg = t.clone().set_requires_grad(true);
  s.zero_grad();
  kl_div_softmax(s, tg, 0.6).backward();
  REQUIRE(s.grad().defined());
  REQUIRE_FALSE(tg.grad().defined());
  // A teacher that requires grad with a student that does not: nothing is recorded.
  REQUIRE_FALSE(kl_div_softmax(s.detach(), tg, 0.6).requires_grad());
}

TEST_CASE("kl_div_softmax rejects bad input with the op's name", "[loss][kl][errors]") {
  Tensor s = Tensor::zeros({2, 1, 3, 3});
  require_error([&] { kl_div_softmax(s, s, 0.0); },
                "kl_div_softmax: temperature must be positive and finite, got 0");
  require_error([&] { kl_div_softmax(s, s, -1.0); },
                "kl_div_softmax: temperature must be positive");
  require_error([&] { kl_div_softmax(s, s, INFINITY); },
                "kl_div_softmax: temperature must be positive");
  require_error(
      [&] {
        kl_div_softmax(s, Tensor::zeros({2, 1, 3, 4}), 1.0);
      },
      "kl_div_softmax: student is float32[2, 1, 3, 3] cpu but teacher is float32[2, 1, 3, 4]");
  require_error(
      [&] {
        kl_div_softmax(Tensor::zeros({2, 3, 3, 3}), Tensor::zeros({2, 3, 3, 3}), 1.0);
      },
      "kl_div_softmax: student must be N×1×H×W or N×H×W");
  require_error(
      [&] {
        kl_div_softmax(s, Tensor::zeros({2, 1, 3, 3}, DType::F64), 1.0);
      },
      "kl_div_softmax: student is float32");
  require_error([&] { kl_div_softmax(s, Tensor(), 1.0); },
                "kl_div_softmax: teacher is an undefined tensor");
  require_error(
      [&] {
        kl_div_softmax(Tensor::zeros({0, 1, 3, 3}), Tensor::zeros({0, 1, 3, 3}), 1.0);
      },
      "kl_div_softmax: student is empty");
}
