// Every pointwise op of kernels/unary_element.h, from its one table (RTSEG_UNARY_ELEMENTS): the
// public function against the element math evaluated directly in float64, the float64 gradient
// against finite differences, float32 against float64, and what the autograd node keeps. A new
// row in the table is tested here without touching this file.
#include <cmath>
#include <set>
#include <string>

#include "kernels/unary_element.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// The public functions take the op's scalar where it has one.
Tensor call(Tensor (*f)(const Tensor&), const Tensor& x, double) { return f(x); }
Tensor call(Tensor (*f)(const Tensor&, double), const Tensor& x, double p) { return f(x, p); }

struct UnaryRow {
  std::string name;
  double param;
  bool reads_input, reads_output;
  Tensor (*apply)(const Tensor&, double);
  double (*forward)(double, double);
  double (*backward)(double, double, double, double);
};

#define RTSEG_UNARY_ROW(Op, function, test_param)                             \
  UnaryRow{                                                                   \
      unary::Op::kName,                                                       \
      test_param,                                                             \
      unary::Op::kReadsInput,                                                 \
      unary::Op::kReadsOutput,                                                \
      [](const Tensor& x, double p) { return call(&rtseg::function, x, p); }, \
      [](double x, double p) { return unary::Op::forward(x, p); },            \
      [](double x, double y, double g, double p) { return unary::Op::backward(x, y, g, p); }},
const std::vector<UnaryRow> kRows = {RTSEG_UNARY_ELEMENTS(RTSEG_UNARY_ROW)};
#undef RTSEG_UNARY_ROW

long storage_uses(const Tensor& t) { return t.impl().storage.use_count(); }

// Odd sizes, a single element, and a plane of a batch-2 feature map.
const std::vector<Shape> kShapes = {{1}, {7}, {2, 3, 5, 7}, {1, 13, 1, 17}};

}  // namespace

TEST_CASE("the unary table names every op once", "[unary]") {
  std::set<std::string> names;
  for (const UnaryRow& row : kRows) REQUIRE(names.insert(row.name).second);
  REQUIRE(kRows.size() >= 9);
}

TEST_CASE("unary ops compute their element math", "[unary]") {
  Generator gen(31);
  for (const UnaryRow& row : kRows) {
    for (const Shape& shape : kShapes) {
      INFO(row.name << " on " << shape_str(shape));
      const Tensor x = rand_uniform(shape, -8, 8, gen, DType::F64);
      const std::vector<double> xs = x.to_doubles();
      std::vector<double> expected(xs.size());
      for (size_t i = 0; i < xs.size(); ++i) expected[i] = row.forward(xs[i], row.param);
      require_values(row.apply(x, row.param), expected, 1e-15);
    }
  }
}

TEST_CASE("unary gradients match finite differences", "[unary][grad]") {
  Generator gen(32);
  for (const UnaryRow& row : kRows) {
    for (const Shape& shape : kShapes) {
      INFO(row.name << " on " << shape_str(shape));
      const Tensor x = random_input(shape, gen, -8, 8);
      const double p = row.param;
      gradcheck([&](const std::vector<Tensor>& t) { return row.apply(t[0], p); }, {x});
    }
  }
}

TEST_CASE("unary ops in float32 stay within one rounding of float64", "[unary]") {
  Generator gen(33);
  for (const UnaryRow& row : kRows) {
    INFO(row.name);
    const Tensor x64 = random_input({2, 5, 9, 11}, gen, -8, 8);
    Tensor x32 = x64.detach().to(DType::F32);
    x32.set_requires_grad(true);
    const Tensor y64 = row.apply(x64, row.param), y32 = row.apply(x32, row.param);
    require_close(y32, y64, 1e-6, 1e-6);
    const Tensor seed = rand_uniform(y64.shape(), -1, 1, gen, DType::F64);
    y64.backward(seed);
    y32.backward(seed.to(DType::F32));
    require_close(x32.grad(), x64.grad(), 1e-5, 1e-6);
  }
}

TEST_CASE("a unary node keeps only what its derivative reads", "[unary][autograd]") {
  // Saved tensors hold storage: the use count of the input's and the output's storage shows
  // whether the node kept them.
  Generator gen(34);
  for (const UnaryRow& row : kRows) {
    INFO(row.name);
    Tensor x = random_input({3, 4}, gen, -2, 2);
    const long x_uses_before = storage_uses(x);
    Tensor y = row.apply(x, row.param);
    REQUIRE((storage_uses(x) > x_uses_before) == row.reads_input);
    REQUIRE((storage_uses(y) > 1) == row.reads_output);
    // Without a gradient wanted, no node is recorded and nothing is kept.
    Tensor z = row.apply(x.detach(), row.param);
    REQUIRE_FALSE(z.requires_grad());
    REQUIRE(storage_uses(z) == 1);
    REQUIRE(storage_uses(x) == x_uses_before + (row.reads_input ? 1 : 0));
  }
}
