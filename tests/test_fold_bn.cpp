// BN folding: folded and unfolded nets give the same eval-mode outputs; the right BNs fold.
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/fold_bn.h"
#include "layers/sequential.h"
#include "nets/cifrenet.h"
#include "nets/summary.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// Random BN statistics and affine parameters, so folding has something to do.
void randomize_batchnorms(Module& net, Generator& gen) {
  for (const auto& [path, m] : net.named_modules()) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(m)) {
      const int64_t c = bn->channels();
      bn->weight.copy_from(rand_uniform({c}, 0.5, 1.5, gen));
      bn->bias.copy_from(rand_uniform({c}, -0.5, 0.5, gen));
      bn->running_mean.copy_from(rand_uniform({c}, -0.3, 0.3, gen));
      bn->running_var.copy_from(rand_uniform({c}, 0.5, 2.0, gen));
    }
  }
}

}  // namespace

TEST_CASE("folding a conv-BN pair keeps the eval output and leaves other BNs alone", "[fold_bn]") {
  Generator gen(1);
  Sequential net;
  net.push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 6, 3, 1, 1, 1, 1, false}, gen));
  net.push_back(std::make_shared<BatchNorm2d>(6));
  net.push_back(std::make_shared<ReLU>());
  net.push_back(std::make_shared<BatchNorm2d>(6));  // after a ReLU: cannot fold
  net.push_back(std::make_shared<Conv2d>(Conv2dOptions{6, 4, 1}, gen));
  net.push_back(std::make_shared<BatchNorm2d>(4));  // conv with bias
  randomize_batchnorms(net, gen);
  net.eval();
  Tensor x = rand_uniform({2, 3, 9, 7}, -1, 1, gen);
  const Tensor before = net.forward(x);
  const FoldReport r = fold_batchnorm(net, {1, 3, 9, 7});
  REQUIRE(r.folded == 2);
  REQUIRE(r.left_alone == 1);
  require_close(net.forward(x), before, 1e-5, 1e-5);
  require_error(
      [&] {
        net.train();
        net.forward(x);
      },
      "folded into its conv");
}

TEST_CASE("folded CIFReNet agrees with the unfolded one and costs fewer MACs",
          "[fold_bn][cifrenet]") {
  Generator gen(2);
  CifreNetConfig c;
  c.num_classes = 11;
  CifreNet net(c);
  randomize_batchnorms(net, gen);
  net.eval();
  Tensor x = rand_uniform({1, 3, 48, 64}, -1, 1, gen);
  const Tensor before = net.forward(x);
  const double bn_macs = summarize(net, {1, 3, 48, 64}).total().macs.thop2022;
  const FoldReport r = fold_batchnorm(net, {1, 3, 48, 64});
  // Every BN directly after a conv folds (those inside BN-PReLU blocks and the pooled branches
  // included); only the classifier's BN, which follows the channel shuffle, stays.
  REQUIRE(r.folded > 60);
  INFO(fmt::format("{}", fmt::join(r.unfolded, ", ")));
  REQUIRE(r.left_alone == 1);
  require_close(net.forward(x), before, 1e-4, 1e-4);
  REQUIRE(summarize(net, {1, 3, 48, 64}).total().macs.thop2022 < bn_macs);
}
