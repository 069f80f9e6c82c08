// CIFReNet: the authors' parameter names and shapes, exact parameter counts, output shapes,
// gradients reaching every parameter, and a finite-difference check of the whole net.
#include <map>

#include "net_test_util.h"
#include "nets/cifrenet.h"
#include "nets/summary.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("CIFReNet has exactly the authors' state_dict keys, shapes and kinds, in order",
          "[cifrenet]") {
  const std::vector<KeyLine> expected = read_key_list("cifrenet_19.tsv");
  REQUIRE(expected.size() == 549);
  CifreNet net(CifreNetConfig{});
  const std::vector<KeyLine> actual = key_lines_of(net);
  REQUIRE(actual.size() == expected.size());
  require_key_lines(actual, expected);
}

TEST_CASE("CIFReNet parameter counts match the reference", "[cifrenet]") {
  REQUIRE(CifreNet(CifreNetConfig{}).num_parameters() == 1949901);
  CifreNetConfig camvid;
  camvid.num_classes = 11;
  camvid.dsp_dilations = CifreNetConfig::dilations_for("camvid");
  REQUIRE(CifreNet(camvid).num_parameters() == 1947845);
  require_error([] { CifreNetConfig::dilations_for("kitti"); },
                "no DSP dilations for dataset 'kitti'");
}

TEST_CASE("CIFReNet output shapes at several input sizes", "[cifrenet]") {
  CifreNetConfig c;
  c.num_classes = 11;
  CifreNet net(c);
  net.eval();
  autograd::NoGradGuard no_grad;
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{97, 131}, {64, 48}, {33, 17}}) {
    INFO(h << "x" << w);
    Tensor x = Tensor::zeros({1, 3, h, w});
    REQUIRE(net.forward(x).shape() == Shape{1, 11, h, w});
    REQUIRE(net.forward_eighth(x).shape() ==
            Shape{1, 11, (((h + 1) / 2 + 1) / 2 + 1) / 2, (((w + 1) / 2 + 1) / 2 + 1) / 2});
  }
  require_error(
      [&] {
        net.forward(Tensor::zeros({1, 4, 32, 32}));
      },
      "CIFReNet: input must be N×3×H×W");
}

TEST_CASE("every CIFReNet parameter receives a gradient in training mode", "[cifrenet][grad]") {
  CifreNet net(CifreNetConfig{});
  net.train();
  Generator gen(3);
  Tensor x = rand_uniform({2, 3, 40, 56}, -1, 1, gen);
  std::vector<int64_t> labels(2 * 40 * 56);
  for (auto& l : labels) l = gen.randint(19);
  cross_entropy(net.forward(x), Tensor::from_vector(labels, {2, 40, 56})).backward();
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    double norm = 0;
    for (double g : p.grad().to_doubles()) norm += g * g;
    REQUIRE(norm > 0);
  }
}

TEST_CASE("CIFReNet MACs match the reference counts within 0.1%", "[cifrenet][summary]") {
  struct Case {
    int64_t h, w;
    double conv, thop2021, thop2022;
  };
  // docs/counts.md, "CIFReNet", 19 classes.
  const std::vector<Case> cases = {{360, 640, 7.118e9, 7.295e9, 7.457e9},
                                   {512, 1024, 16.197e9, 16.600e9, 16.968e9}};
  CifreNet net(CifreNetConfig{});
  for (const Case& c : cases) {
    INFO(c.h << "x" << c.w);
    const ModelSummary s = summarize(net, {1, 3, c.h, c.w});
    REQUIRE(s.total().params == 1949901);
    REQUIRE(s.total().macs.conv == Approx(c.conv).epsilon(1e-3));
    REQUIRE(s.total().macs.thop2021 == Approx(c.thop2021).epsilon(1e-3));
    REQUIRE(s.total().macs.thop2022 == Approx(c.thop2022).epsilon(1e-3));
    REQUIRE(s.total().output == Shape{1, 19, c.h, c.w});
  }
  // Per-part conv-GMACs at 360×640 (docs/counts.md, "CIFReNet"): stage 6 = mod7, the heaviest.
  const ModelSummary s = summarize(net, {1, 3, 360, 640});
  for (const ModuleSummary& m : s.modules) {
    if (m.path == "mod7") REQUIRE(m.macs.conv == Approx(2.824e9).epsilon(2e-3));
    if (m.path == "mod1") REQUIRE(m.macs.conv == Approx(0.050e9).epsilon(1e-2));
    if (m.path == "mod4") REQUIRE(m.output == Shape{1, 32, 45, 80});
  }
}

TEST_CASE("the whole CIFReNet passes a finite-difference check in float64", "[cifrenet][grad]") {
  // Eval mode: with batch statistics over the 1×1 pooled branches a batch of 2 is so ill-
  // conditioned that finite differences lose their accuracy (gradients ~1e3 with large
  // curvature); the training-mode graph is checked exactly by the fp64 PyTorch parity test.
  // One sampled element of every third parameter tensor and of the input (all of them would
  // take millions of forwards).
  CifreNetConfig c;
  c.num_classes = 5;
  CifreNet net(c);
  net.to(DType::F64);
  net.eval();
  Generator gen(8);
  Tensor x = random_input({1, 3, 16, 24}, gen);
  std::vector<Tensor> inputs;
  const std::vector<Tensor> params = net.parameters();
  for (size_t i = 0; i < params.size(); i += 3) inputs.push_back(params[i]);
  inputs.push_back(x);
  GradCheckOptions opt;
  opt.max_elements_per_input = 1;
  opt.tolerance = 1e-5;
  gradcheck([&](const std::vector<Tensor>& t) { return net.forward(t.back()); }, inputs, opt);
}
