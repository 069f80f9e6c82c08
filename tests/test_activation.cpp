// Pointwise activations: values at and around the kinks, gradients, bad input.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("activation values", "[activation]") {
  Tensor x = Tensor::from_doubles({-7, -1, 0, 0.5, 6, 8}, {6}, DType::F64);
  require_values(relu(x), {0, 0, 0, 0.5, 6, 8});
  require_values(relu6(x), {0, 0, 0, 0.5, 6, 6});
  require_values(leaky_relu(x, 0.1), {-0.7, -0.1, 0, 0.5, 6, 8});
  require_values(sigmoid(x),
                 {1 / (1 + std::exp(7.0)), 1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-0.5)),
                  1 / (1 + std::exp(-6.0)), 1 / (1 + std::exp(-8.0))},
                 1e-12);
  require_values(
      tanh(x),
      {std::tanh(-7.0), std::tanh(-1.0), 0, std::tanh(0.5), std::tanh(6.0), std::tanh(8.0)}, 1e-12);
  // Large magnitudes neither overflow nor produce NaN.
  require_values(sigmoid(Tensor::from_doubles({-1000, 1000}, {2})), {0, 1});
}

TEST_CASE("gradients at the kinks follow PyTorch (left piece)", "[activation][grad]") {
  Tensor x = Tensor::from_doubles({0, 6}, {2}, DType::F64);
  x.set_requires_grad(true);
  sum(relu(x)).backward();
  require_values(x.grad(), {0, 1});
  x.zero_grad();
  sum(relu6(x)).backward();
  require_values(x.grad(), {0, 0});
}

TEST_CASE("activation gradients match finite differences", "[activation][grad]") {
  Generator gen(11);
  Tensor x = random_input({2, 3, 5, 7}, gen, -8.0, 8.0);
  gradcheck([](const std::vector<Tensor>& t) { return relu(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return relu6(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return leaky_relu(t[0], 0.1); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return sigmoid(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return tanh(t[0]); }, {x});
}

TEST_CASE("activations reject non-floating input with the op's name", "[activation][errors]") {
  Tensor labels = Tensor::zeros({3}, DType::I64);
  require_error([&] { relu(labels); }, "relu: input must be float32 or float64");
  require_error([&] { sigmoid(Tensor()); }, "sigmoid: input is an undefined tensor");
}
