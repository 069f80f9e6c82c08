// Activation fusion: conv→ReLU/ReLU6 pairs (directly or through a folded BatchNorm) become conv
// epilogues with the same eval output on every CPU backend; a conv output read elsewhere stays
// unfused; whole nets agree with their unfused selves; training through a fused conv still gets
// the activation's gradient.
#include "core/backend.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/fuse_activation.h"
#include "layers/sequential.h"
#include "nets/registry.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// A conv whose output goes to a ReLU and also to the sum that ends the block: not fusable.
class SharedOutput : public Module {
 public:
  explicit SharedOutput(Generator& gen) {
    conv = register_module("conv", std::make_shared<Conv2d>(Conv2dOptions{4, 4, 3, 1, 1}, gen));
    act = register_module("act", std::make_shared<ReLU>());
  }
  Tensor forward_impl(const Tensor& x) override {
    const Tensor y = conv->forward(x);
    return add(act->forward(y), y);
  }
  std::string type_name() const override { return "SharedOutput"; }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<ReLU> act;
};

}  // namespace

TEST_CASE("conv activations fuse where nothing else reads the conv output", "[fuse]") {
  const auto build = [] {
    Generator gen(1);
    auto net = std::make_shared<Sequential>();
    net->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 4, 3, 1, 1, 1, 1, false}, gen));
    net->push_back(std::make_shared<BatchNorm2d>(4));
    net->push_back(std::make_shared<ReLU6>());                                          // fuses
    net->push_back(std::make_shared<Conv2d>(Conv2dOptions{4, 4, 3, 1, 1, 1, 4}, gen));  // depthwise
    net->push_back(std::make_shared<ReLU>());                                           // fuses
    net->push_back(std::make_shared<SharedOutput>(gen));                                // stays
    net->push_back(std::make_shared<ReLU>());  // after an add: stays
    net->eval();
    return net;
  };
  for (Backend backend : {Backend::CpuReference, Backend::CpuFast}) {
    INFO(backend_name(backend));
    CpuBackendGuard guard(backend);
    auto net = build();
    Generator gen(2);
    // Inputs large enough that values fall on both sides of 0 and of 6.
    const Tensor x = rand_uniform({2, 3, 9, 11}, -8, 8, gen);
    const Tensor before = net->forward(x);
    const InferenceReport r = prepare_for_inference(*net, {1, 3, 9, 11});
    REQUIRE(r.folding.folded == 1);
    REQUIRE(r.fused_activations == 2);
    REQUIRE(dynamic_cast<Conv2d&>((*net)[0]).epilogue() == ConvEpilogue::Relu6);
    REQUIRE(dynamic_cast<Conv2d&>((*net)[3]).epilogue() == ConvEpilogue::Relu);
    auto& shared = dynamic_cast<SharedOutput&>((*net)[5]);
    REQUIRE(shared.conv->epilogue() == ConvEpilogue::None);
    REQUIRE_FALSE(shared.act->is_fused());
    require_close(net->forward(x), before, 1e-5, 1e-5);
    // A second pass finds nothing more to do.
    REQUIRE(fuse_conv_activations(*net, {1, 3, 9, 11}) == 0);
  }
}

TEST_CASE("a fused conv trains with the activation's gradient", "[fuse][grad]") {
  Generator gen(2);
  Tensor x = random_input({1, 2, 5, 6}, gen, -2, 2);
  Tensor w = random_input({3, 2, 3, 3}, gen, -1, 1);
  Tensor b = random_input({3}, gen, -1, 1);
  for (ConvEpilogue e : {ConvEpilogue::Relu, ConvEpilogue::Relu6}) {
    Conv2dParams p;
    p.padding = {1, 1};
    p.epilogue = e;
    gradcheck([&](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2], p); }, {x, w, b});
    Conv2dParams plain = p;
    plain.epilogue = ConvEpilogue::None;
    const Tensor expected =
        e == ConvEpilogue::Relu ? relu(conv2d(x, w, b, plain)) : relu6(conv2d(x, w, b, plain));
    autograd::NoGradGuard no_grad;
    require_close(conv2d(x, w, b, p), expected, 1e-15, 1e-15);
  }
}

TEST_CASE("prepared nets agree with the unprepared ones", "[fuse][nets]") {
  for (const char* name : {"cifrenet", "pidnet-s", "icfrnet"}) {
    INFO(name);
    NetOptions options;
    options.num_classes = 5;
    auto plain = create_net(name, options);
    auto prepared = create_net(name, options);
    // In float64, so the comparison sees a wrong rewrite and not float32 rounding.
    plain->to(DType::F64);
    prepared->to(DType::F64);
    plain->eval();
    prepared->eval();
    const InferenceReport r = prepare_for_inference(*prepared, {1, 3, 64, 96});
    REQUIRE(r.folding.folded > 0);
    REQUIRE(r.fused_activations > 0);
    // PIDNet's residual blocks (also ICFRNet's) join through conv2d_add; CIFReNet has none.
    REQUIRE((r.fused_residuals > 0) == (std::string(name) != "cifrenet"));
    Generator gen(3);
    const Tensor x = rand_uniform({1, 3, 64, 96}, -1, 1, gen, DType::F64);
    autograd::NoGradGuard no_grad;
    const Tensor exact = plain->forward(x);
    require_close(prepared->forward(x), exact, 1e-10, 1e-10);
    // In float32 on the fast backend, where the joins and activations run inside the kernels:
    // the prepared net is about as close to float64 as the plain one (the rewrites change the
    // order of float32 roundings, nothing more).
    plain->to(DType::F32);
    prepared->to(DType::F32);
    CpuBackendGuard fast(Backend::CpuFast);
    const Tensor x32 = x.to(DType::F32);
    const auto error_of = [&](Module& net) {
      const std::vector<double> y = net.forward(x32).to_doubles(), e = exact.to_doubles();
      double worst = 0;
      for (size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(y[i] - e[i]));
      return worst;
    };
    const double plain_error = error_of(*plain), prepared_error = error_of(*prepared);
    INFO("largest error against float64: plain " << plain_error << ", prepared " << prepared_error);
    REQUIRE(prepared_error <= 3 * plain_error + 1e-6);
  }
}

TEST_CASE("conv2d_add: epilogue(conv + bias + residual), gradients included", "[fuse]") {
  Generator gen(9);
  Tensor x = random_input({2, 3, 6, 5}, gen, -1, 1);
  Tensor w = random_input({4, 3, 3, 3}, gen, -1, 1);
  Tensor b = random_input({4}, gen, -1, 1);
  Tensor r = random_input({2, 4, 6, 5}, gen, -1, 1);
  for (ConvEpilogue e : {ConvEpilogue::None, ConvEpilogue::Relu}) {
    Conv2dParams p;
    p.padding = {1, 1};
    p.epilogue = e;
    gradcheck([&](const std::vector<Tensor>& t) { return conv2d_add(t[0], t[1], t[2], p, t[3]); },
              {x, w, b, r});
    Conv2dParams plain = p;
    plain.epilogue = ConvEpilogue::None;
    const Tensor sum = add(conv2d(x, w, b, plain), r);
    autograd::NoGradGuard no_grad;
    require_close(conv2d_add(x, w, b, p, r), e == ConvEpilogue::Relu ? relu(sum) : sum, 1e-15,
                  1e-15);
  }
}
