// SGD against torch.optim.SGD on fixed gradients, parameter groups, and the poly schedule.
#include "optim/lr_schedule.h"
#include "optim/sgd.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 2.0}, {0.25, 0.5, -1.0}, {-0.75, 1.5, 0.125}};

std::vector<std::vector<double>> run_sgd(const SgdHyper& h, DType dtype) {
  Tensor p = Tensor::from_doubles({1.0, -2.0, 0.5}, {3}, dtype).set_requires_grad(true);
  SGD opt({p}, h);
  std::vector<std::vector<double>> out;
  for (const auto& g : kGrads) {
    p.set_grad(Tensor::from_doubles(g, {3}, dtype));
    opt.step();
    out.push_back(p.to_doubles());
  }
  return out;
}

void require_trajectory(const std::vector<std::vector<double>>& got,
                        const std::vector<std::vector<double>>& expected, double tol) {
  for (size_t s = 0; s < expected.size(); ++s) {
    for (size_t i = 0; i < 3; ++i) {
      INFO("step " << s << " element " << i);
      REQUIRE(got[s][i] == Approx(expected[s][i]).epsilon(tol).margin(tol));
    }
  }
}

}  // namespace

TEST_CASE("SGD matches torch.optim.SGD step by step", "[optim]") {
  // Expected values printed by torch.optim.SGD (float64, lr 0.1) on the same gradients.
  struct Case {
    SgdHyper h;
    std::vector<std::vector<double>> expected;
  };
  const std::vector<Case> cases = {
      {{0.1, 0.9, 0.0, 0.01, false},
       {{0.949, -1.898, 0.2995},
        {0.877151, -1.854302, 0.2187505},
        {0.886609749, -1.963119498, 0.1333571995}}},
      {{0.1, 0.9, 0.0, 0.01, true},
       {{0.9031, -1.8062, 0.11905},
        {0.81257411, -1.81514822, 0.146418805},
        {0.895369708191, -2.061378416382, 0.0571296787705}}},
      {{0.1, 0.9, 0.1, 0.0, false},
       {{0.95, -1.9, 0.3}, {0.8825, -1.855, 0.21}, {0.88925, -1.9495, 0.11775}}},
      {{0.1, 0.0, 0.0, 0.05, false},
       {{0.945, -1.89, 0.2975},
        {0.915275, -1.93055, 0.3960125},
        {0.985698625, -2.07089725, 0.3815324375}}},
  };
  for (const Case& c : cases) {
    INFO("momentum " << c.h.momentum << " nesterov " << c.h.nesterov << " dampening "
                     << c.h.dampening << " weight decay " << c.h.weight_decay);
    require_trajectory(run_sgd(c.h, DType::F64), c.expected, 1e-12);
    require_trajectory(run_sgd(c.h, DType::F32), c.expected, 1e-6);
  }
}

TEST_CASE("parameter groups keep their own settings; parameters without grad are skipped",
          "[optim]") {
  Tensor a = Tensor::from_doubles({1.0}, {1}, DType::F64).set_requires_grad(true);
  Tensor b = Tensor::from_doubles({1.0}, {1}, DType::F64).set_requires_grad(true);
  Tensor c = Tensor::from_doubles({1.0}, {1}, DType::F64).set_requires_grad(true);
  SGD opt({ParamGroup{{a}, {0.1, 0.0, 0.0, 0.0, false}},
           ParamGroup{{b, c}, {0.01, 0.0, 0.0, 0.5, false}}});
  a.set_grad(Tensor::from_doubles({1.0}, {1}, DType::F64));
  b.set_grad(Tensor::from_doubles({1.0}, {1}, DType::F64));
  opt.step();
  REQUIRE(a.item() == Approx(0.9));
  REQUIRE(b.item() == Approx(1.0 - 0.01 * (1.0 + 0.5)));
  REQUIRE(c.item() == 1.0);  // no gradient: untouched
  REQUIRE(opt.steps_taken() == 1);
  opt.zero_grad();
  REQUIRE_FALSE(a.grad().defined());
}

TEST_CASE("SGD trains a least-squares problem to its solution", "[optim]") {
  // minimise |A·w − y|² with momentum: the unique minimiser is known.
  Tensor a = Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {3, 2}, DType::F64);
  Tensor w_true = Tensor::from_doubles({0.5, -1.5}, {2, 1}, DType::F64);
  Tensor y = matmul(a, w_true);
  Tensor w = Tensor::zeros({2, 1}, DType::F64).set_requires_grad(true);
  SGD opt({w}, {0.003, 0.9, 0.0, 0.0, true});  // stable: lr·λmax(2AᵀA) ≈ 0.54
  for (int i = 0; i < 2000; ++i) {
    opt.zero_grad();
    Tensor r = sub(matmul(a, w), y);
    sum(mul(r, r)).backward();
    opt.step();
  }
  require_close(w, w_true, 1e-6, 1e-6);
}

TEST_CASE("poly schedule with and without warm-up", "[optim]") {
  PolySchedule poly{100, 0.9, 0, 0.1};
  REQUIRE(poly.factor(0) == 1.0);
  REQUIRE(poly.factor(50) == Approx(std::pow(0.5, 0.9)));
  REQUIRE(poly.factor(100) == 0.0);
  REQUIRE(poly.factor(150) == 0.0);  // clamped past the end
  PolySchedule warm{100, 0.9, 10, 0.1};
  REQUIRE(warm.factor(0) == Approx(0.1));
  REQUIRE(warm.factor(5) == Approx(std::pow(0.95, 0.9) * (0.1 + 0.9 * 0.5)));
  REQUIRE(warm.factor(10) == Approx(std::pow(0.9, 0.9)));
  Tensor p = Tensor::zeros({1}).set_requires_grad(true);
  SGD opt({ParamGroup{{p}, {0.01, 0.9, 0.0, 5e-4, false}}});
  poly.apply(opt, 50);
  REQUIRE(opt.groups()[0].hyper.lr == Approx(0.01 * std::pow(0.5, 0.9)));
  REQUIRE(opt.groups()[0].initial_lr == 0.01);
  require_error([] { PolySchedule{0}.factor(1); }, "PolySchedule: max_iter must be positive");
}

TEST_CASE("SGD rejects bad settings", "[optim][errors]") {
  Tensor p = Tensor::zeros({1}).set_requires_grad(true);
  require_error([&] { SGD({p}, {-0.1}); }, "SGD: group 0 has a negative learning rate");
  require_error(
      [&] {
        SGD({p}, {0.1, 0.0, 0.0, 0.0, true});
      },
      "Nesterov momentum needs momentum > 0");
  require_error([&] { SGD({Tensor::zeros({1})}, {0.1}); }, "not a floating leaf requiring grad");
}
