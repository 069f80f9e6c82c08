// End to end on the CPU: a tiny conv net trained with plain gradient descent on a segmentation
// task it can solve must lower its loss by a large factor. This exercises conv2d, bias, relu,
// cross_entropy and the engine's accumulation across many steps together.
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("a tiny conv net learns a pixel labelling task with gradient descent", "[training]") {
  Generator gen(2024);
  // Task: class 1 where the first colour channel is brighter than the second, else 0, on
  // random images; a 3×3 conv stack must learn a (local) comparison of channels.
  const int64_t n = 4, h = 11, w = 13;
  Tensor images = rand_uniform({n, 3, h, w}, -1, 1, gen);
  std::vector<int64_t> labels(n * h * w);
  {
    const float* p = images.data<float>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < h * w; ++i)
        labels[b * h * w + i] = p[(b * 3 + 0) * h * w + i] > p[(b * 3 + 1) * h * w + i] ? 1 : 0;
  }
  Tensor target = Tensor::from_vector(labels, {n, h, w});

  Tensor w1 = kaiming_normal({8, 3, 3, 3}, gen).set_requires_grad(true);
  Tensor b1 = Tensor::zeros({8}).set_requires_grad(true);
  Tensor w2 = kaiming_normal({2, 8, 3, 3}, gen).set_requires_grad(true);
  Tensor b2 = Tensor::zeros({2}).set_requires_grad(true);
  std::vector<Tensor> params{w1, b1, w2, b2};

  auto loss_of = [&] {
    Tensor hidden = relu(conv2d(images, w1, b1, 1, 1));
    return cross_entropy(conv2d(hidden, w2, b2, 1, 1), target);
  };
  const double initial = loss_of().item();
  double final_loss = initial;
  const double lr = 0.5;
  for (int step = 0; step < 300; ++step) {
    Tensor loss = loss_of();
    final_loss = loss.item();
    REQUIRE(std::isfinite(final_loss));
    loss.backward();
    autograd::NoGradGuard no_grad;
    for (Tensor& p : params) {
      p.copy_from(sub(p, mul_scalar(p.grad(), lr)));
      p.zero_grad();
    }
  }
  INFO("loss " << initial << " -> " << final_loss);
  REQUIRE(final_loss < initial / 10);
}
