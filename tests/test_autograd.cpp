// The autograd engine: accumulation, shared subgraphs, no-grad, release of saved tensors,
// retain_graph, detach, and the gradient checker itself.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("a tensor used twice accumulates both paths", "[autograd]") {
  Tensor x = Tensor::from_doubles({1, 2, 3}, {3}, DType::F64);
  x.set_requires_grad(true);
  // y = x·x + 3x  ->  dy/dx = 2x + 3
  Tensor y = sum(add(mul(x, x), mul_scalar(x, 3)));
  y.backward();
  require_values(x.grad(), {5, 7, 9});
}

TEST_CASE("a shared intermediate sends the sum of its consumers' gradients", "[autograd]") {
  Tensor x = Tensor::from_doubles({0.5, -1.5}, {2}, DType::F64);
  x.set_requires_grad(true);
  Tensor s = sigmoid(x);  // used by three consumers
  Tensor y = sum(add(mul(s, s), add(s, mul_scalar(s, 2))));
  y.backward();
  // dy/dx = (2s + 3)·s(1−s)
  std::vector<double> expected;
  for (double v : {0.5, -1.5}) {
    const double sv = 1 / (1 + std::exp(-v));
    expected.push_back((2 * sv + 3) * sv * (1 - sv));
  }
  require_values(x.grad(), expected, 1e-12);
}

TEST_CASE("gradients accumulate into leaves across backward calls until zero_grad", "[autograd]") {
  Tensor x = Tensor::from_doubles({1, 2}, {2}, DType::F64);
  x.set_requires_grad(true);
  sum(mul_scalar(x, 2)).backward();
  sum(mul_scalar(x, 3)).backward();
  require_values(x.grad(), {5, 5});
  x.zero_grad();
  REQUIRE_FALSE(x.grad().defined());
  sum(x).backward();
  require_values(x.grad(), {1, 1});
}

TEST_CASE("no-grad records nothing", "[autograd]") {
  Tensor x = Tensor::from_doubles({1, 2}, {2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y;
  {
    autograd::NoGradGuard guard;
    REQUIRE_FALSE(autograd::grad_enabled());
    y = relu(mul(x, x));
  }
  REQUIRE(autograd::grad_enabled());
  REQUIRE_FALSE(y.requires_grad());
  REQUIRE(y.grad_fn() == nullptr);
  require_error([&] { sum(y).backward(); }, "backward: tensor");
  // Inputs that do not require grad record nothing either.
  Tensor z = mul(Tensor::ones({2}), Tensor::ones({2}));
  REQUIRE(z.grad_fn() == nullptr);
}

TEST_CASE("saved tensors are released after backward, and the graph cannot run twice",
          "[autograd]") {
  Tensor x = Tensor::from_doubles({1, 2}, {2}, DType::F64);
  x.set_requires_grad(true);
  Tensor h = mul_scalar(x, 2);
  const long before = h.impl_ptr().use_count();
  Tensor y = sum(mul(h, h));  // mul saves h twice
  REQUIRE(h.impl_ptr().use_count() > before);
  y.backward();
  REQUIRE(h.impl_ptr().use_count() == before);
  require_values(x.grad(), {8, 16});
  require_error([&] { y.backward(); }, "already released");
}

TEST_CASE("retain_graph allows a second backward", "[autograd]") {
  Tensor x = Tensor::from_doubles({3}, {1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = sum(mul(x, x));
  y.backward(Tensor(), true);
  y.backward();
  require_values(x.grad(), {12});
}

TEST_CASE("detach stops the gradient", "[autograd]") {
  Tensor x = Tensor::from_doubles({2}, {1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = sum(mul(x, x.detach()));  // d/dx = x (the detached factor is a constant)
  y.backward();
  require_values(x.grad(), {2});
}

TEST_CASE("backward checks its seed", "[autograd][errors]") {
  Tensor x = Tensor::from_doubles({1, 2}, {2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = mul_scalar(x, 2);
  require_error([&] { y.backward(); }, "implicit seed needs a one-element tensor");
  require_error([&] { y.backward(Tensor::ones({3}, DType::F64)); }, "backward: seed");
  y.backward(Tensor::from_doubles({1, 10}, {2}, DType::F64));
  require_values(x.grad(), {2, 20});
}

TEST_CASE("a backward returning a wrongly shaped gradient is reported with the op's name",
          "[autograd][errors]") {
  Tensor x = Tensor::from_doubles({1, 2}, {2}, DType::F64);
  x.set_requires_grad(true);
  Tensor out = x.detach().clone();
  autograd::record("broken_op", {x}, {out},
                   [](const autograd::TensorList&, const std::vector<bool>&) {
                     return autograd::TensorList{Tensor::zeros({3}, DType::F64)};
                   });
  require_error([&] { sum(out).backward(); }, "backward of 'broken_op'");
}

TEST_CASE("the gradient checker catches a wrong backward", "[autograd][gradcheck]") {
  // y = x² with a backward that returns x instead of 2x: check_gradients must see the error.
  auto wrong_square = [](const std::vector<Tensor>& t) {
    const Tensor& x = t[0];
    Tensor out = Tensor::empty(x.shape(), x.dtype());
    const double* px = x.data<double>();
    double* po = out.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) po[i] = px[i] * px[i];
    autograd::record("wrong_square", {x}, {out},
                     [x](const autograd::TensorList& g, const std::vector<bool>&) {
                       return autograd::TensorList{mul(g[0], x.detach())};
                     });
    return out;
  };
  Generator gen(1);
  Tensor x = random_input({5}, gen, 0.5, 1.0);
  const GradCheckResult bad = check_gradients(wrong_square, {x});
  REQUIRE(bad.worst > 0.1);
  const GradCheckResult good =
      check_gradients([](const std::vector<Tensor>& t) { return mul(t[0], t[0]); }, {x});
  REQUIRE(good.worst < 1e-7);
  REQUIRE(good.checked == 5);
}
