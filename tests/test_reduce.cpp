// sum/mean over everything and over chosen dimensions.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("sum and mean values", "[reduce]") {
  Tensor x = Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {1, 2, 3, 1});
  REQUIRE(sum(x).item() == 21);
  REQUIRE(sum(x).dim() == 0);
  REQUIRE(mean(x).item() == 3.5);
  require_values(sum(x, {2}), {6, 15});
  REQUIRE(sum(x, {2}).shape() == Shape{1, 2, 1});
  REQUIRE(sum(x, {2}, true).shape() == Shape{1, 2, 1, 1});
  require_values(mean(x, {1}, true), {2.5, 3.5, 4.5});
  require_values(sum(x, {0, -1}), {1, 2, 3, 4, 5, 6});
  require_error([&] { sum(x, {4}); }, "sum: dimension 4 out of range");
  require_error([&] { sum(x, {1, 1}); }, "listed twice");
  require_error([] { mean(Tensor::zeros({0, 3}), {0}); }, "mean: reducing");
}

TEST_CASE("argmax over channels picks the first maximum", "[reduce]") {
  // 1×3×1×4: pixel 0 -> channel 2, pixel 1 -> tie between 0 and 1 -> 0, pixel 2 -> 1, pixel 3 -> 0.
  Tensor x = Tensor::from_doubles({0, 5, 1, 9, /**/ 1, 5, 7, 2, /**/ 3, 4, -1, 8}, {1, 3, 1, 4});
  REQUIRE(argmax_channels(x).to_vector<int64_t>() == std::vector<int64_t>{2, 0, 1, 0});
  REQUIRE(argmax_channels(x).shape() == Shape{1, 1, 4});
  require_error(
      [] {
        argmax_channels(Tensor::zeros({3, 4}));
      },
      "argmax_channels: input must have 4 dimensions");
}

TEST_CASE("reduction gradients match finite differences", "[reduce][grad]") {
  Generator gen(31);
  Tensor x = random_input({2, 3, 4, 5}, gen);
  gradcheck([](const std::vector<Tensor>& t) { return sum(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return mean(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return sum(t[0], {0, 2, 3}); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return mean(t[0], {1}, true); }, {x});
}
