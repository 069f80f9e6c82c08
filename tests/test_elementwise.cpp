// Broadcasting arithmetic: hand-checked values, gradients by finite differences, bad input.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("add/sub/mul/div broadcast a per-channel operand over N×C×H×W", "[elementwise]") {
  Tensor x = Tensor::from_doubles({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor c = Tensor::from_doubles({10, 100}, {1, 2, 1, 1});
  require_values(add(x, c), {11, 12, 13, 14, 105, 106, 107, 108});
  require_values(sub(x, c), {-9, -8, -7, -6, -95, -94, -93, -92});
  require_values(mul(x, c), {10, 20, 30, 40, 500, 600, 700, 800});
  require_values(div(x, c), {0.1, 0.2, 0.3, 0.4, 0.05, 0.06, 0.07, 0.08});
  // Rank alignment from the right: a [W] vector stretches over everything else.
  Tensor w = Tensor::from_doubles({1, -1}, {2});
  require_values(mul(x, w), {1, -2, 3, -4, 5, -6, 7, -8});
}

TEST_CASE("scalar forms and operators", "[elementwise]") {
  Tensor x = Tensor::from_doubles({1, -2, 3}, {3});
  require_values(add_scalar(x, 1.5), {2.5, -0.5, 4.5});
  require_values(mul_scalar(x, -2), {-2, 4, -6});
  require_values(rsub_scalar(x, 1), {0, 3, -2});
  require_values(-x, {-1, 2, -3});
  require_values(x * 2.0 + 1.0, {3, -3, 7});
}

TEST_CASE("broadcast_shapes follows NumPy rules", "[elementwise]") {
  REQUIRE(broadcast_shapes("t", {2, 1, 4, 1}, {3, 1, 5}) == Shape{2, 3, 4, 5});
  REQUIRE(broadcast_shapes("t", {}, {2, 2}) == Shape{2, 2});
  require_error([] { broadcast_shapes("mul", {2, 3}, {4, 3}); }, "mul: shapes [2, 3] and [4, 3]");
}

TEST_CASE("elementwise gradients match finite differences", "[elementwise][grad]") {
  Generator gen(7);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {2, 3, 1, 1}},
      {{1, 3, 1, 1}, {2, 3, 4, 5}}, {{3, 1, 5}, {2, 1, 4, 1}},    {{2, 3, 4, 5}, {}}};
  for (const auto& [sa, sb] : cases) {
    INFO(shape_str(sa) << " with " << shape_str(sb));
    Tensor a = random_input(sa, gen);
    Tensor b = random_input(sb, gen, 0.5, 2.0);  // away from 0 for div
    gradcheck([](const std::vector<Tensor>& t) { return add(t[0], t[1]); }, {a, b});
    gradcheck([](const std::vector<Tensor>& t) { return sub(t[0], t[1]); }, {a, b});
    gradcheck([](const std::vector<Tensor>& t) { return mul(t[0], t[1]); }, {a, b});
    gradcheck([](const std::vector<Tensor>& t) { return div(t[0], t[1]); }, {a, b});
  }
  Tensor x = random_input({2, 3, 5}, gen);
  gradcheck(
      [](const std::vector<Tensor>& t) {
        return rsub_scalar(mul_scalar(add_scalar(t[0], 2), 3), 1);
      },
      {x});
  gradcheck([](const std::vector<Tensor>& t) { return sum_to(t[0], {3, 1}); }, {x});
}

TEST_CASE("elementwise ops reject bad input with the op's name", "[elementwise][errors]") {
  Tensor f32 = Tensor::zeros({2, 3});
  Tensor f64 = Tensor::zeros({2, 3}, DType::F64);
  Tensor labels = Tensor::zeros({2, 3}, DType::I64);
  require_error([&] { add(f32, f64); }, "add: a is float32[2, 3]");
  require_error([&] { mul(f32, labels); }, "mul: b must be float32 or float64");
  require_error([&] { sub(f32, Tensor::zeros({4})); }, "sub: shapes [2, 3] and [4]");
  require_error([&] { div(Tensor(), f32); }, "div: a is an undefined tensor");
  require_error([&] { sum_to(f32, {4}); }, "sum_to");
}
