// dropout: seeded masks, the inverted scaling, the kept fraction, eval / p = 0 / p = 1, the
// backward through the same mask, bad input.
#include "layers/dropout.h"
#include "layers/sequential.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("dropout masks are fixed by the generator's seed", "[dropout]") {
  Tensor x = Tensor::ones({4, 5, 6, 7});
  Generator a(42), b(42), c(43);
  const std::vector<double> ma = dropout(x, 0.5, true, a).to_doubles();
  const std::vector<double> mb = dropout(x, 0.5, true, b).to_doubles();
  const std::vector<double> mc = dropout(x, 0.5, true, c).to_doubles();
  REQUIRE(ma == mb);
  REQUIRE(ma != mc);
  // The generator advances: a second draw from `a` is a different mask, equal to b's second.
  const std::vector<double> ma2 = dropout(x, 0.5, true, a).to_doubles();
  REQUIRE(ma2 != ma);
  REQUIRE(ma2 == dropout(x, 0.5, true, b).to_doubles());
  // Every survivor is scaled by 1/(1 − p) = 2, the rest are 0.
  for (double v : ma) REQUIRE((v == 0.0 || v == 2.0));
}

TEST_CASE("dropout keeps about 1 − p of a large tensor, scaled by 1/(1 − p)", "[dropout]") {
  Generator gen(7);
  Tensor x = rand_uniform({100000}, 1.0, 2.0, gen);
  for (double p : {0.1, 0.3, 0.75}) {
    INFO("p = " << p);
    const std::vector<double> in = x.to_doubles();
    const std::vector<double> out = dropout(x, p, true, gen).to_doubles();
    int64_t kept = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (out[i] == 0.0) continue;
      ++kept;
      REQUIRE(out[i] == Approx(in[i] / (1 - p)).epsilon(1e-6));
    }
    // The standard deviation of the kept fraction is sqrt(p(1 − p)/1e5) < 0.0016.
    REQUIRE(static_cast<double>(kept) / 100000.0 == Approx(1 - p).margin(0.01));
  }
}

TEST_CASE("dropout in eval or with p = 0 returns x, with p = 1 zeros", "[dropout]") {
  Generator gen(1);
  Tensor x = Tensor::from_doubles({1, -2, 3, 4}, {2, 2});
  x.set_requires_grad(true);
  REQUIRE(dropout(x, 0.5, false, gen).same_impl(x));
  REQUIRE(dropout(x, 0.0, true, gen).same_impl(x));
  Tensor y = dropout(x, 1.0, true, gen);
  require_values(y, {0, 0, 0, 0});
  y.backward(Tensor::ones({2, 2}));
  require_values(x.grad(), {0, 0, 0, 0});
}

TEST_CASE("dropout backward uses the forward's mask", "[dropout][grad]") {
  Generator gen(3);
  Tensor x = Tensor::full({3, 4, 5}, 1.0, DType::F64);
  x.set_requires_grad(true);
  Tensor y = dropout(x, 0.4, true, gen);
  // With x = 1 the output is the mask itself; a unit seed makes the gradient the mask too.
  y.backward(Tensor::ones({3, 4, 5}, DType::F64));
  require_values(x.grad(), y.to_doubles(), 0.0);
  // Finite differences, with a fresh generator of the same seed per evaluation.
  Tensor r = random_input({2, 3, 5}, gen);
  gradcheck(
      [](const std::vector<Tensor>& t) {
        Generator fixed(99);
        return dropout(t[0], 0.3, true, fixed);
      },
      {r});
}

TEST_CASE("dropout draws the mask in logical order for non-contiguous input", "[dropout]") {
  Generator gen(5);
  Tensor base = rand_uniform({4, 9}, -1.0, 1.0, gen);
  Tensor view = narrow(base, 1, 2, 5);
  REQUIRE(!view.is_contiguous());
  Generator a(8), b(8);
  require_values(dropout(view, 0.5, true, a), dropout(view.clone(), 0.5, true, b).to_doubles(),
                 0.0);
}

TEST_CASE("dropout rejects bad input with the op's name", "[dropout][errors]") {
  Generator gen(1);
  Tensor x = Tensor::zeros({2, 3});
  require_error([&] { dropout(x, -0.1, true, gen); },
                "dropout: probability must be in [0, 1], got -0.1");
  require_error([&] { dropout(x, 1.5, false, gen); },
                "dropout: probability must be in [0, 1], got 1.5");
  require_error([&] { dropout(Tensor::zeros({2}, DType::I64), 0.5, true, gen); },
                "dropout: input must be float32 or float64");
  require_error([&] { dropout(Tensor(), 0.5, true, gen); },
                "dropout: input is an undefined tensor");
}

TEST_CASE("Dropout registers its generator, named by module path", "[dropout][module]") {
  Sequential outer;
  auto inner = outer.push_back(std::make_shared<Sequential>());
  auto first = inner->push_back(std::make_shared<Dropout>(0.5, 1));
  auto second = outer.push_back(std::make_shared<Dropout>(0.1, 2));
  const auto generators = outer.named_generators();
  REQUIRE(generators.size() == 2);
  REQUIRE(generators[0].first == "dropout:0.0");
  REQUIRE(generators[0].second == &first->generator());
  REQUIRE(generators[1].first == "dropout:1");
  REQUIRE(generators[1].second == &second->generator());
}
