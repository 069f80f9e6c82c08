// Channel (SE) and spatial (CBAM/ICGA-style) attention: names, values, gradients, errors.
#include "layers/attention.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("ChannelAttention uses CIFReNet's parameter names and the SE formula", "[attention]") {
  Generator gen(1);
  ChannelAttention se(6, 2, gen);
  std::vector<std::string> names;
  for (const auto& [k, t] : se.state_dict()) names.push_back(k);
  REQUIRE(names ==
          std::vector<std::string>{"channel_excitation.0.weight", "channel_excitation.0.bias",
                                   "channel_excitation.2.weight", "channel_excitation.2.bias"});
  // With zero weights and biases the gate is sigmoid(0) = 0.5 for every channel.
  for (const Tensor& p : se.parameters()) p.fill(0.0);
  Tensor x = rand_uniform({2, 6, 3, 5}, -1, 1, gen);
  require_close(se.forward(x), mul_scalar(x, 0.5));
}

TEST_CASE("ChannelAttention gradients match finite differences", "[attention][grad]") {
  Generator gen(2);
  ChannelAttention se(5, 3, gen);
  se.to(DType::F64);
  Tensor x = random_input({2, 5, 3, 4}, gen);
  std::vector<Tensor> inputs = se.parameters();
  inputs.push_back(x);
  gradcheck([&](const std::vector<Tensor>& t) { return se.forward(t.back()); }, inputs);
}

TEST_CASE("SpatialAttention gates every channel with one map built from guidance, max and mean",
          "[attention]") {
  Generator gen(3);
  SpatialAttention sa(2, 3, true, false, gen);
  REQUIRE(sa.conv->weight.shape() == Shape{1, 4, 3, 3});
  std::vector<std::string> names;
  for (const auto& [k, t] : sa.state_dict()) names.push_back(k);
  REQUIRE(names == std::vector<std::string>{"conv.weight", "conv.bias"});
  // A 1×1-like kernel that reads only the channel-max plane (index 2 after 2 guidance channels).
  sa.conv->weight.fill(0.0);
  sa.conv->bias.fill(0.0);
  Tensor w = Tensor::zeros({1, 4, 3, 3});
  w.data<float>()[2 * 9 + 4] = 1.0f;
  sa.conv->weight.copy_from(w);
  Tensor s = Tensor::from_doubles({1, -2, 3, 0.5}, {1, 2, 1, 2});  // channel max = {3, 0.5}
  Tensor g = Tensor::zeros({1, 2, 1, 2});
  const double a0 = 1 / (1 + std::exp(-3.0)), a1 = 1 / (1 + std::exp(-0.5));
  require_values(sa.forward(s, g), {1 * a0, -2 * a1, 3 * a0, 0.5 * a1}, 1e-6);
  SpatialAttention residual(0, 3, false, true, gen);
  Tensor r = residual.forward(s, Tensor());
  const std::vector<double> rv = r.to_doubles(), sv = s.to_doubles();
  for (size_t i = 0; i < rv.size(); ++i)
    REQUIRE(std::abs(rv[i]) >= std::abs(sv[i]));  // S·(1 + A), A > 0
}

TEST_CASE("SpatialAttention gradients match finite differences", "[attention][grad]") {
  Generator gen(4);
  SpatialAttention sa(3, 3, true, false, gen);
  sa.to(DType::F64);
  Tensor s = random_input({2, 4, 5, 6}, gen);
  Tensor g = random_input({2, 3, 5, 6}, gen);
  std::vector<Tensor> inputs = sa.parameters();
  inputs.push_back(s);
  inputs.push_back(g);
  gradcheck([&](const std::vector<Tensor>& t) { return sa.forward(t[2], t[3]); }, inputs);
}

TEST_CASE("attention modules reject bad shapes", "[attention][errors]") {
  Generator gen(5);
  ChannelAttention se(4, 2, gen);
  require_error(
      [&] {
        se.forward(Tensor::zeros({1, 3, 2, 2}));
      },
      "ChannelAttention: expected N×4×H×W");
  SpatialAttention sa(2, 3, true, false, gen);
  require_error(
      [&] {
        sa.forward(Tensor::zeros({1, 3, 4, 4}), Tensor::zeros({1, 2, 5, 4}));
      },
      "SpatialAttention: guidance must be 1×2×4×4");
  require_error([&] { SpatialAttention(1, 4, true, false, gen); }, "odd kernel");
}
