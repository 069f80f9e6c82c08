// The module tree: PyTorch state_dict names and order, train/eval, in-place dtype moves, init.
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "layers/upsample.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// A conv-BN-PReLU block with a named child, as the nets compose them.
class Block : public Module {
 public:
  explicit Block(Generator& gen) {
    conv = register_module("conv", std::make_shared<Sequential>());
    conv->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 4, 3, 1, 1, 1, 1, false}, gen));
    conv->push_back(std::make_shared<BatchNorm2d>(4));
    conv->push_back(std::make_shared<PReLU>(4));
    head = register_module("head", std::make_shared<Conv2d>(Conv2dOptions{4, 2, 1}, gen));
  }
  Tensor forward_impl(const Tensor& x) override { return head->forward(conv->forward(x)); }
  std::string type_name() const override { return "Block"; }
  std::shared_ptr<Sequential> conv;
  std::shared_ptr<Conv2d> head;
};

std::vector<std::string> keys(const NamedTensors& entries) {
  std::vector<std::string> out;
  for (const auto& [k, t] : entries) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("state_dict keys and order follow PyTorch", "[layers]") {
  Generator gen(1);
  Block block(gen);
  REQUIRE(keys(block.state_dict()) ==
          std::vector<std::string>{"conv.0.weight", "conv.1.weight", "conv.1.bias",
                                   "conv.1.running_mean", "conv.1.running_var",
                                   "conv.1.num_batches_tracked", "conv.2.weight", "head.weight",
                                   "head.bias"});
  REQUIRE(keys(block.named_parameters()) ==
          std::vector<std::string>{"conv.0.weight", "conv.1.weight", "conv.1.bias", "conv.2.weight",
                                   "head.weight", "head.bias"});
  REQUIRE(block.num_parameters() == 4 * 3 * 9 + 4 + 4 + 4 + 2 * 4 + 2);
  REQUIRE(keys(block.named_parameters("model")).front() == "model.conv.0.weight");
  for (const Tensor& p : block.parameters()) REQUIRE(p.requires_grad());
  for (const auto& [k, b] : block.named_buffers()) REQUIRE_FALSE(b.requires_grad());
  REQUIRE(block.named_modules().size() == 6);
}

TEST_CASE("BatchNorm2d uses batch statistics in training and running ones in eval", "[layers]") {
  BatchNorm2d bn(2);
  Tensor x = Tensor::from_doubles({1, 3, 10, 30, 5, 7, 50, 70}, {2, 2, 2, 1});
  Tensor y = bn.forward(x);
  // Channel 0 holds {1, 3, 5, 7}: mean 4, biased var 5.
  require_values(narrow(y, 1, 0, 1),
                 {-3 / std::sqrt(5 + 1e-5), -1 / std::sqrt(5 + 1e-5), 1 / std::sqrt(5 + 1e-5),
                  3 / std::sqrt(5 + 1e-5)},
                 1e-5);
  REQUIRE(bn.num_batches_tracked.item() == 1);
  require_values(bn.running_mean, {0.4, 4.0}, 1e-6);
  bn.eval();
  REQUIRE_FALSE(bn.is_training());
  Tensor z = bn.forward(x);
  REQUIRE(bn.num_batches_tracked.item() == 1);
  // Eval: (x − running_mean) / sqrt(running_var + eps); running_var(0) = 0.9 + 0.1·20/3.
  const double rv0 = 0.9 + 0.1 * 20.0 / 3.0;
  REQUIRE(z.to_doubles()[0] == Approx((1 - 0.4) / std::sqrt(rv0 + 1e-5)).epsilon(1e-5));
}

TEST_CASE("train/eval reach the whole tree; dropout follows it", "[layers]") {
  Generator gen(2);
  Sequential seq;
  seq.push_back(std::make_shared<Linear>(6, 5, true, gen));
  auto drop = seq.push_back(std::make_shared<Dropout>(0.5, 7));
  Tensor x = Tensor::ones({3, 6});
  seq.eval();
  REQUIRE_FALSE(drop->is_training());
  require_close(seq.forward(x), seq[0].forward(x));  // dropout is the identity in eval
  seq.train();
  REQUIRE(drop->is_training());
}

TEST_CASE("to(dtype) converts in place so existing handles follow", "[layers]") {
  Generator gen(3);
  Block block(gen);
  Tensor w = block.head->weight;  // a handle an optimizer would hold
  block.to(DType::F64);
  REQUIRE(w.dtype() == DType::F64);
  REQUIRE(block.conv->named_buffers()[2].second.dtype() == DType::I64);  // num_batches_tracked
  Tensor x = random_input({1, 3, 5, 6}, gen);
  gradcheck([&](const std::vector<Tensor>& t) { return block.forward(t[0]); }, {x});
}

TEST_CASE("a whole block passes a finite-difference check on its parameters", "[layers][grad]") {
  Generator gen(4);
  Block block(gen);
  block.to(DType::F64);
  Tensor x = rand_uniform({2, 3, 5, 4}, -1, 1, gen, DType::F64);
  std::vector<Tensor> params = block.parameters();
  gradcheck([&](const std::vector<Tensor>&) { return block.forward(x); }, params);
}

TEST_CASE("default init follows PyTorch's bounds", "[layers]") {
  Generator gen(5);
  Conv2d conv(Conv2dOptions{16, 32, 3}, gen);
  const double bound = 1 / std::sqrt(16.0 * 9);
  double max_abs = 0;
  for (double v : conv.weight.to_doubles()) max_abs = std::max(max_abs, std::abs(v));
  REQUIRE(max_abs <= bound);
  REQUIRE(max_abs > 0.9 * bound);
  for (double v : conv.bias.to_doubles()) REQUIRE(std::abs(v) <= bound);
  PReLU prelu_layer(8);
  require_values(prelu_layer.weight, std::vector<double>(8, 0.25));
}

TEST_CASE("layers reject bad configurations and inputs", "[layers][errors]") {
  Generator gen(6);
  require_error(
      [&] {
        Conv2d(Conv2dOptions{6, 4, 3, 1, 1, 1, 4}, gen);
      },
      "Conv2d: 6 -> 4 channels do not split into 4 groups");
  require_error([] { BatchNorm2d(0); }, "BatchNorm2d: channels must be positive");
  require_error([] { Dropout(1.5); }, "Dropout: p must be in [0, 1]");
  require_error([] { Upsample::by_factor(0, Upsample::Mode::Bilinear, true); }, "Upsample: factor");
  Block block(gen);
  require_error([&] { block.to(DType::I64); }, "target dtype must be floating");
  Conv2d conv(Conv2dOptions{3, 4, 3}, gen);
  require_error([&] { conv.forward(Tensor::zeros({1, 5, 8, 8})); }, "conv2d");
  BatchNorm2d bn(4);
  require_error([&] { bn.forward(Tensor::zeros({2, 3, 4, 4})); }, "batch_norm");
}

TEST_CASE("Upsample resizes by factor or to a size", "[layers]") {
  auto up = Upsample::by_factor(8, Upsample::Mode::Bilinear, true);
  REQUIRE(up->forward(Tensor::zeros({1, 2, 45, 80})).shape() == Shape{1, 2, 360, 640});
  auto to = Upsample::to_size(7, 9, Upsample::Mode::Nearest, false);
  REQUIRE(to->forward(Tensor::zeros({1, 1, 3, 3})).shape() == Shape{1, 1, 7, 9});
}
