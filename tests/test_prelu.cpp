// prelu: per-channel and shared slopes, hand-checked values and gradients, finite differences,
// bad input.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("prelu: one slope per channel, hand-checked forward and backward", "[prelu]") {
  // 1×2×1×3: channel 0 (-2, -1, 0.5) with slope 0.25, channel 1 (-4, 3, 0) with slope 0.5.
  Tensor x = Tensor::from_doubles({-2, -1, 0.5, -4, 3, 0}, {1, 2, 1, 3}, DType::F64);
  Tensor w = Tensor::from_doubles({0.25, 0.5}, {2}, DType::F64);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  Tensor y = prelu(x, w);
  require_values(y, {-0.5, -0.25, 0.5, -2, 3, 0});
  y.backward(Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {1, 2, 1, 3}, DType::F64));
  // dx = g where x > 0 else slope·g (x = 0 takes the slope, as PyTorch).
  require_values(x.grad(), {0.25, 0.5, 3, 2, 5, 3});
  // dw = Σ g·x over x ≤ 0: channel 0: 1·(−2) + 2·(−1) = −4; channel 1: 4·(−4) + 6·0 = −16.
  require_values(w.grad(), {-4, -16});
}

TEST_CASE("prelu: a single shared slope, N×C and 1-D inputs", "[prelu]") {
  Tensor w = Tensor::from_doubles({0.1}, {1});
  require_values(prelu(Tensor::from_doubles({-1, 2, -3, 4, -5, 6}, {1, 3, 1, 2}), w),
                 {-0.1, 2, -0.3, 4, -0.5, 6});
  // A 0-d slope works too, and a 1-D input is one channel.
  require_values(prelu(Tensor::from_doubles({-10, 10}, {2}), Tensor::from_doubles({0.5}, {})),
                 {-5, 10});
  // N×C with per-channel slopes: column k uses slope k.
  require_values(prelu(Tensor::from_doubles({-1, -1, -1, 2, -2, 2}, {2, 3}),
                       Tensor::from_doubles({1, 2, 3}, {3})),
                 {-1, -2, -3, 2, -4, 2});
}

TEST_CASE("prelu matches the formula on odd shapes and non-contiguous input", "[prelu]") {
  Generator gen(31);
  Tensor base = rand_uniform({3, 5, 7, 11}, -1.0, 1.0, gen);
  Tensor x = narrow(base, 3, 1, 9);
  REQUIRE(!x.is_contiguous());
  Tensor w = rand_uniform({5}, 0.0, 0.5, gen);
  const std::vector<double> v = x.clone().to_doubles(), a = w.to_doubles();
  std::vector<double> expected(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t channel = (i / (7 * 9)) % 5;
    expected[i] = v[i] > 0 ? v[i] : a[channel] * v[i];
  }
  require_values(prelu(x, w), expected, 1e-7);
}

TEST_CASE("prelu gradients match finite differences", "[prelu][grad]") {
  Generator gen(32);
  auto f = [](const std::vector<Tensor>& t) { return prelu(t[0], t[1]); };
  gradcheck(f, {random_input({2, 3, 4, 5}, gen), random_input({3}, gen, 0.0, 0.5)});
  gradcheck(f, {random_input({2, 3, 4, 5}, gen), random_input({1}, gen, 0.0, 0.5)});
  gradcheck(f, {random_input({5, 7}, gen), random_input({7}, gen, 0.0, 0.5)});
  // Only the slope requires a gradient.
  Tensor fixed = rand_uniform({3, 4, 5}, -1.0, 1.0, gen, DType::F64);
  gradcheck(f, {fixed, random_input({4}, gen)});
}

TEST_CASE("prelu rejects bad input with the op's name", "[prelu][errors]") {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  require_error([&] { prelu(x, Tensor::ones({2})); },
                "prelu: weight has 2 slopes but input float32[2, 3, 4, 4] cpu has 3 channels");
  require_error(
      [&] {
        prelu(x, Tensor::ones({3, 1}));
      },
      "prelu: weight must be a scalar or a 1-D tensor");
  require_error([&] { prelu(x, Tensor::ones({3}, DType::F64)); }, "prelu: input is float32");
  require_error(
      [&] {
        prelu(Tensor::zeros({2, 3}, DType::I64), Tensor::ones({3}));
      },
      "prelu: input must be float32 or float64");
  require_error([&] { prelu(x, Tensor()); }, "prelu: weight is an undefined tensor");
  require_error([&] { prelu(Tensor::zeros({4}), Tensor::ones({4})); },
                "prelu: weight has 4 slopes");
}
