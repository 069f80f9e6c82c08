// reshape/narrow/concat/split/channel_shuffle: values, gradients, errors.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("concat and split along channels", "[shape]") {
  Tensor a = Tensor::from_doubles({1, 2, 3, 4}, {2, 1, 2, 1});
  Tensor b = Tensor::from_doubles({5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 2, 1});
  Tensor c = concat({a, b});
  REQUIRE(c.shape() == Shape{2, 3, 2, 1});
  require_values(c, {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
  std::vector<Tensor> parts = split(c, {1, 2});
  require_values(parts[0], {1, 2, 3, 4});
  require_values(parts[1], {5, 6, 7, 8, 9, 10, 11, 12});
  require_values(concat({a, a}, 2), {1, 2, 1, 2, 3, 4, 3, 4});
  require_error(
      [&] {
        concat({a, Tensor::zeros({2, 1, 3, 1})});
      },
      "concat: input 1 is float32[2, 1, 3, 1]");
  require_error([&] { concat({a, Tensor::zeros({2, 1, 2, 1}, DType::F64)}); }, "concat:");
  require_error([&] { split(c, {1, 1}); }, "split: pieces add up to 2");
  require_error([] { concat({}); }, "concat: no tensors");
}

TEST_CASE("channel_shuffle moves channel i·(C/g)+j to j·g+i", "[shape]") {
  // 6 channels, one pixel each, holding their own index; groups 2 -> per = 3.
  Tensor x = Tensor::from_doubles({0, 1, 2, 3, 4, 5}, {1, 6, 1, 1});
  require_values(channel_shuffle(x, 2), {0, 3, 1, 4, 2, 5});
  require_values(channel_shuffle(x, 3), {0, 2, 4, 1, 3, 5});
  require_values(channel_shuffle(channel_shuffle(x, 2), 3), {0, 1, 2, 3, 4, 5});
  require_error([&] { channel_shuffle(x, 4); },
                "channel_shuffle: 6 channels do not split into 4 groups");
  require_error([] { channel_shuffle(Tensor::zeros({6}), 2); },
                "channel_shuffle: input must have 4 dimensions");
}

TEST_CASE("shape op gradients match finite differences", "[shape][grad]") {
  Generator gen(21);
  Tensor a = random_input({2, 3, 3, 5}, gen);
  Tensor b = random_input({2, 2, 3, 5}, gen);
  gradcheck([](const std::vector<Tensor>& t) { return concat({t[0], t[1], t[0]}); }, {a, b});
  gradcheck(
      [](const std::vector<Tensor>& t) {
        return channel_shuffle(concat({t[0], t[1]}), 5);
      },
      {a, b});
  gradcheck([](const std::vector<Tensor>& t) { return reshape(t[0], {6, -1}); }, {a});
  gradcheck([](const std::vector<Tensor>& t) { return narrow(t[0], 1, 1, 2); }, {a});
  // Only one piece of a split used: the other's gradient is zero-filled by the engine.
  gradcheck([](const std::vector<Tensor>& t) { return split(t[0], {1, 2})[1]; }, {a});
  gradcheck(
      [](const std::vector<Tensor>& t) {
        std::vector<Tensor> p = split(t[0], {2, 1});
        return mul(p[0], concat({p[1], p[1]}));
      },
      {a});
}
