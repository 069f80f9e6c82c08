// PIDNet-S: the authors' state_dict keys for both graphs, exact parameter counts, MACs under the
// three conventions of docs/counts.md, the block-ending rules of make_layer, output shapes at
// odd sizes, the auxiliary heads' inputs (the in-place ReLU quirk), gradients reaching every
// parameter, the initialisation and the registry entry. PyTorch parity: tests/parity.
#include <cmath>
#include <set>

#include "layers/fold_bn.h"
#include "net_test_util.h"
#include "nets/pidnet.h"
#include "nets/registry.h"
#include "nets/summary.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

PidNetConfig s_config(bool training_graph, int64_t classes = 19) {
  PidNetConfig c;
  c.num_classes = classes;
  c.training_graph = training_graph;
  return c;
}

const ModuleSummary& row(const ModelSummary& s, const std::string& path) {
  for (const ModuleSummary& m : s.modules) {
    if (m.path == path) return m;
  }
  FAIL("no module " << path << " in the summary");
  return s.modules.front();
}

// Spatial size after the stem and layer2: three stride-2 3×3 convs with padding 1.
int64_t eighth(int64_t v) { return (((v + 1) / 2 + 1) / 2 + 1) / 2; }

double min_value(const Tensor& t) {
  double m = INFINITY;
  for (double v : t.to_doubles()) m = std::min(m, v);
  return m;
}

}  // namespace

TEST_CASE("PIDNet-S has exactly the authors' state_dict keys, shapes and kinds, in order",
          "[pidnet]") {
  for (const bool train : {false, true}) {
    const std::string file = train ? "pidnet_s_train_19.tsv" : "pidnet_s_infer_19.tsv";
    INFO(file);
    const std::vector<KeyLine> expected = read_key_list(file);
    REQUIRE_FALSE(expected.empty());
    PidNet net(s_config(train));
    const std::vector<KeyLine> actual = key_lines_of(net);
    REQUIRE(actual.size() == expected.size());
    require_key_lines(actual, expected);
  }
}

TEST_CASE("PIDNet-S parameter counts match the reference", "[pidnet]") {
  REQUIRE(PidNet(s_config(false)).num_parameters() == 7625715);
  REQUIRE(PidNet(s_config(true)).num_parameters() == 7720935);
  REQUIRE(PidNet(s_config(false, 11)).num_parameters() == 7624683);  // CamVid
  REQUIRE(PidNet(s_config(true, 11)).num_parameters() == 7718871);
  PidNet net(s_config(true));
  // Per-module counts of docs/pidnet-s.md, "Forward graph".
  REQUIRE(net.conv1->num_parameters() == 10272);
  REQUIRE(net.layer3->num_parameters() == 820992);
  REQUIRE(net.layer5->num_parameters() == 1774592);
  REQUIRE(net.layer3_d->num_parameters() == 29888);
  REQUIRE(net.layer4_d->num_parameters() == 14720);
  REQUIRE(net.pag3->num_parameters() == 4224);
  REQUIRE(net.diff4->num_parameters() == 147584);
  REQUIRE(net.spp->num_parameters() == 712384);
  REQUIRE(net.dfm->num_parameters() == 33280);
  REQUIRE(net.final_layer->num_parameters() == 150419);
  REQUIRE(net.seghead_p->num_parameters() == 76563);
  REQUIRE(net.seghead_d->num_parameters() == 18657);
  require_error([] { PidNet(s_config(false, 0)); }, "PIDNet: num_classes must be positive");
}

TEST_CASE("make_layer: block endings follow the authors' no-ReLU rules", "[pidnet]") {
  Generator gen(5);
  auto relu_endings = [](const Sequential& layer) {
    std::vector<bool> out;
    for (size_t i = 0; i < layer.size(); ++i) {
      if (auto* b = dynamic_cast<pidnet::BasicBlock*>(&layer[i]))
        out.push_back(b->ends_with_relu());
      if (auto* b = dynamic_cast<pidnet::Bottleneck*>(&layer[i]))
        out.push_back(b->ends_with_relu());
    }
    return out;
  };
  auto basic2 = pidnet::make_layer(pidnet::BlockKind::Basic, 8, 8, 2, 1, gen);
  auto basic3 = pidnet::make_layer(pidnet::BlockKind::Basic, 8, 16, 3, 2, gen);
  auto bottle2 = pidnet::make_layer(pidnet::BlockKind::Bottleneck, 16, 8, 2, 2, gen);
  auto bottle1 = pidnet::make_layer(pidnet::BlockKind::Bottleneck, 8, 8, 1, 1, gen);
  auto basic1 = pidnet::make_layer(pidnet::BlockKind::Basic, 8, 8, 1, 1, gen);
  REQUIRE(relu_endings(*basic2) == std::vector<bool>{true, false});
  REQUIRE(relu_endings(*basic3) == std::vector<bool>{true, true, false});
  REQUIRE(relu_endings(*bottle2) == std::vector<bool>{false, false});
  REQUIRE(relu_endings(*bottle1) == std::vector<bool>{false});
  REQUIRE(relu_endings(*basic1) == std::vector<bool>{true});  // a single block keeps the default
  // Projections exactly where the channels or the stride change.
  auto& first3 = dynamic_cast<pidnet::BasicBlock&>((*basic3)[0]);
  REQUIRE(first3.downsample != nullptr);
  REQUIRE(dynamic_cast<pidnet::BasicBlock&>((*basic3)[1]).downsample == nullptr);
  REQUIRE(dynamic_cast<pidnet::BasicBlock&>((*basic2)[0]).downsample == nullptr);
  REQUIRE(dynamic_cast<pidnet::Bottleneck&>((*bottle1)[0]).downsample !=
          nullptr);  // 8 -> 16 channels
  auto single = pidnet::make_single_layer(pidnet::BlockKind::Basic, 8, 8, gen);
  REQUIRE_FALSE(dynamic_cast<pidnet::BasicBlock&>(*single).ends_with_relu());
  REQUIRE(dynamic_cast<pidnet::BasicBlock&>(*single).downsample == nullptr);

  // And numerically: ReLU-ending blocks give no negative value, linear ones do.
  basic3->eval();
  autograd::NoGradGuard no_grad;
  Tensor x = rand_uniform({1, 8, 9, 11}, -1, 1, gen);
  Tensor y0 = (*basic3)[0].forward(x), y1 = (*basic3)[1].forward(y0), y2 = (*basic3)[2].forward(y1);
  REQUIRE(y2.shape() == Shape{1, 16, 5, 6});
  REQUIRE(min_value(y0) >= 0);
  REQUIRE(min_value(y1) >= 0);
  REQUIRE(min_value(y2) < 0);
}

TEST_CASE("PIDNet-S MACs at 1024×2048 match the reference counts within 0.1%",
          "[pidnet][summary]") {
  struct Case {
    bool train;
    int64_t params;
    double conv, thop2021, thop2022;
  };
  // docs/counts.md, "PIDNet-S", 19 classes.
  for (const Case& c : {Case{false, 7625715, 47.194e9, 47.483e9, 47.729e9},
                        Case{true, 7720935, 50.295e9, 50.604e9, 50.868e9}}) {
    INFO((c.train ? "training graph" : "inference graph"));
    PidNet net(s_config(c.train));
    const ModelSummary s = summarize(net, {1, 3, 1024, 2048});
    REQUIRE(s.total().params == c.params);
    REQUIRE(s.total().macs.conv == Approx(c.conv).epsilon(1e-3));
    REQUIRE(s.total().macs.thop2021 == Approx(c.thop2021).epsilon(1e-3));
    REQUIRE(s.total().macs.thop2022 == Approx(c.thop2022).epsilon(1e-3));
    REQUIRE(s.total().output == Shape{1, 19, 128, 256});
    if (c.train) continue;
    // Per-module conv-GMACs (docs/counts.md, "PIDNet-S", 3 digits) and shapes
    // (docs/pidnet-s.md, "Forward graph").
    const std::vector<std::pair<std::string, double>> parts = {
        {"conv1", 1.661e9},        {"layer1", 4.832e9},     {"layer2", 4.295e9},
        {"layer3", 6.711e9},       {"layer4", 6.711e9},     {"layer5", 1.007e9},
        {"compression3", 0.067e9}, {"pag3", 0.084e9},       {"pag4", 0.071e9},
        {"layer5_", 1.879e9},      {"layer3_d", 0.973e9},   {"layer4_d", 0.470e9},
        {"diff3", 0.302e9},        {"diff4", 0.302e9},      {"spp", 0.268e9},
        {"dfm", 1.074e9},          {"final_layer", 4.912e9}};
    for (const auto& [path, macs] : parts) {
      INFO(path);
      REQUIRE(row(s, path).macs.conv == Approx(macs).margin(0.0006e9));
    }
    REQUIRE(row(s, "conv1").output == Shape{1, 32, 256, 512});
    REQUIRE(row(s, "layer2").output == Shape{1, 64, 128, 256});
    REQUIRE(row(s, "layer3").output == Shape{1, 128, 64, 128});
    REQUIRE(row(s, "layer4").output == Shape{1, 256, 32, 64});
    REQUIRE(row(s, "layer5").output == Shape{1, 512, 16, 32});
    REQUIRE(row(s, "spp").output == Shape{1, 128, 16, 32});
    REQUIRE(row(s, "spp.scale1.0").output == Shape{1, 512, 8, 16});
    REQUIRE(row(s, "spp.scale2.0").output == Shape{1, 512, 4, 8});
    REQUIRE(row(s, "spp.scale3.0").output == Shape{1, 512, 2, 4});
    REQUIRE(row(s, "spp.scale4.0").output == Shape{1, 512, 1, 1});
    REQUIRE(row(s, "pag3").output == Shape{1, 64, 128, 256});
    REQUIRE(row(s, "layer4_d").output == Shape{1, 64, 128, 256});
    REQUIRE(row(s, "layer5_d").output == Shape{1, 128, 128, 256});
    REQUIRE(row(s, "dfm").output == Shape{1, 128, 128, 256});
  }
}

TEST_CASE("PIDNet-S on CamVid (11 classes, 720×960) matches the reference counts",
          "[pidnet][summary]") {
  PidNet net(s_config(false, 11));
  const ModelSummary s = summarize(net, {1, 3, 720, 960});
  REQUIRE(s.total().params == 7624683);
  REQUIRE(s.total().macs.conv == Approx(15.622e9).epsilon(1e-3));
  REQUIRE(s.total().output == Shape{1, 11, 90, 120});
  // 720 is not a multiple of 64: the I branch reaches 45×60, 23×30 and 12×15.
  REQUIRE(row(s, "layer4").output == Shape{1, 256, 23, 30});
  REQUIRE(row(s, "layer5").output == Shape{1, 512, 12, 15});
  REQUIRE(row(s, "spp.scale1.0").output == Shape{1, 512, 6, 8});
}

TEST_CASE("PIDNet-S runs at sizes that are not multiples of 8, every head at 1/8", "[pidnet]") {
  PidNet net(s_config(true, 5));
  net.eval();
  autograd::NoGradGuard no_grad;
  Generator gen(1);
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{97, 131}, {33, 17}}) {
    INFO(h << "x" << w);
    Tensor x = rand_uniform({1, 3, h, w}, -1, 1, gen);
    const PidNetHeads heads = net.forward_heads(x);
    REQUIRE(heads.main.shape() == Shape{1, 5, eighth(h), eighth(w)});
    REQUIRE(heads.aux_p.shape() == Shape{1, 5, eighth(h), eighth(w)});
    REQUIRE(heads.boundary.shape() == Shape{1, 1, eighth(h), eighth(w)});
    require_close(net.forward(x), heads.main, 0, 0);
    const std::vector<Tensor> list = heads.list();
    REQUIRE(list.size() == 3);
    REQUIRE(list[0].same_impl(heads.aux_p));
    REQUIRE(list[2].same_impl(heads.boundary));
  }
  require_error(
      [&] {
        net.forward(Tensor::zeros({1, 4, 32, 32}));
      },
      "PIDNet: input must be N×3×H×W");
  PidNet infer(s_config(false, 5));
  infer.eval();
  const PidNetHeads heads = infer.forward_heads(Tensor::zeros({2, 3, 40, 24}));
  REQUIRE(heads.main.shape() == Shape{2, 5, 5, 3});
  REQUIRE_FALSE(heads.aux_p.defined());
  REQUIRE_FALSE(heads.boundary.defined());
}

TEST_CASE(
    "PIDNet-S auxiliary heads read ReLU(P3') and ReLU(D4'), as the authors' in-place ReLU makes "
    "them",
    "[pidnet]") {
  PidNet net(s_config(true, 3));
  net.eval();
  autograd::NoGradGuard no_grad;
  Generator gen(2);
  randomize_batch_norms(net, gen);
  Tensor x = rand_uniform({1, 3, 40, 56}, -2, 2, gen);
  const PidNetHeads heads = net.forward_heads(x);
  // The graph of docs/pidnet-s.md, "Forward graph", rows 1–15, step by step.
  const int64_t h = 5, w = 7;
  Tensor x8 = relu(net.layer2->forward(relu(net.layer1->forward(net.conv1->forward(x)))));
  Tensor i3 = relu(net.layer3->forward(x8));
  Tensor p3 = net.pag3->forward(net.layer3_->forward(x8), net.compression3->forward(i3));
  Tensor d3 =
      add(net.layer3_d->forward(x8), interpolate_bilinear(net.diff3->forward(i3), h, w, false));
  Tensor i4 = relu(net.layer4->forward(i3));
  Tensor d4 = add(net.layer4_d->forward(relu(d3)),
                  interpolate_bilinear(net.diff4->forward(i4), h, w, false));
  require_close(heads.aux_p, net.seghead_p->forward(relu(p3)), 1e-6, 1e-6);
  require_close(heads.boundary, net.seghead_d->forward(relu(d4)), 1e-6, 1e-6);
  // Without the rectification the heads would differ (P3' and D4' do have negative values).
  REQUIRE(min_value(p3) < 0);
  REQUIRE(min_value(d4) < 0);
  REQUIRE(closeness(heads.aux_p, net.seghead_p->forward(p3), 1e-3, 1e-3) > 1.0);
}

namespace {

// Sum of the three heads' losses of a training-graph forward on a 2×3×48×64 batch, backward run,
// in float64: structural zeros (≤ 1e-15) and real but small gradients (Light-Bag's p path,
// ~1e-7 relative) are then far apart, which float32 rounding does not guarantee.
void backward_all_heads(PidNet& net) {
  net.to(DType::F64);
  Generator gen(3);
  Tensor x = rand_uniform({2, 3, 48, 64}, -1, 1, gen, DType::F64);
  std::vector<int64_t> labels(2 * 6 * 8);
  for (auto& l : labels) l = gen.randint(4);
  const Tensor target = Tensor::from_vector(labels, {2, 6, 8});
  const PidNetHeads heads = net.forward_heads(x);
  Tensor loss = add(add(cross_entropy(heads.aux_p, target), cross_entropy(heads.main, target)),
                    mse_loss(heads.boundary, rand_uniform({2, 1, 6, 8}, 0, 1, gen, DType::F64)));
  loss.backward();
}

}  // namespace

TEST_CASE("every PIDNet-S parameter receives a gradient in the training graph", "[pidnet][grad]") {
  SECTION("eval mode (running statistics): every gradient is non-zero") {
    PidNet net(s_config(true, 4));
    net.eval();
    backward_all_heads(net);
    for (const auto& [name, g] : relative_gradients(net)) {
      INFO(name);
      REQUIRE(g > 1e-7);
    }
  }
  SECTION("training mode: non-zero except where a training-mode BN removes the parameter again") {
    PidNet net(s_config(true, 4));
    net.train();
    backward_all_heads(net);
    // Per-channel constants whose only consumer is a training-mode BN (which subtracts the batch
    // mean) have a zero gradient up to rounding, in PyTorch too: the stem's conv biases and
    // Light-Bag's BN biases (final_layer starts with a BN). At this input size layer5 and PAPPM
    // work on 1×1 maps of 2 images, where batch statistics are degenerate: not judged here (the
    // parity test covers them at the same size against PyTorch).
    const std::set<std::string> structural_zero = {"conv1.0.bias", "conv1.3.bias",
                                                   "dfm.conv_p.1.bias", "dfm.conv_i.1.bias"};
    for (const auto& [name, g] : relative_gradients(net)) {
      INFO(name);
      if (structural_zero.count(name)) {
        REQUIRE(g < 1e-12);
      } else if (name.rfind("layer5.", 0) != 0 && name.rfind("spp.", 0) != 0) {
        REQUIRE(g > 1e-7);
      }
    }
  }
}

TEST_CASE("PIDNet-S initialisation: Kaiming-normal fan_out convs, unit BN", "[pidnet]") {
  PidNet net(s_config(false));
  // layer4.1.conv1: 256×256×3×3, fan_out 2304, std √(2/2304) ≈ 0.02946 (589,824 draws).
  const auto* conv = dynamic_cast<pidnet::BasicBlock&>((*net.layer4)[1]).conv1.get();
  const std::vector<double> v = conv->weight.to_doubles();
  double mean = 0, sq = 0;
  for (double e : v) mean += e;
  mean /= static_cast<double>(v.size());
  for (double e : v) sq += (e - mean) * (e - mean);
  const double stddev = std::sqrt(sq / static_cast<double>(v.size()));
  REQUIRE(std::abs(mean) < 1e-3);
  REQUIRE(stddev == Approx(std::sqrt(2.0 / 2304.0)).epsilon(0.01));
  require_values(net.final_layer->bn1->weight, std::vector<double>(128, 1.0));
  require_values(net.final_layer->bn1->bias, std::vector<double>(128, 0.0));
  // The same seed builds the same net; another seed another one.
  PidNetConfig other = s_config(false);
  other.seed = 9;
  REQUIRE(PidNet(s_config(false)).conv1->named_parameters()[0].second.to_doubles() ==
          net.conv1->named_parameters()[0].second.to_doubles());
  REQUIRE(PidNet(other).conv1->named_parameters()[0].second.to_doubles() !=
          net.conv1->named_parameters()[0].second.to_doubles());
}

TEST_CASE("PIDNet-S with its conv-BN pairs folded gives the same eval logits",
          "[pidnet][fold_bn]") {
  // The FPS protocol's graph (docs/pidnet-s.md, "FPS protocol"): every BN right after a conv folds;
  // the pre-activation BNs (PAPPM's 8, final_layer.bn1) stay.
  PidNet net(s_config(false, 5));
  net.eval();
  Generator gen(4);
  randomize_batch_norms(net, gen);
  autograd::NoGradGuard no_grad;
  Tensor x = rand_uniform({1, 3, 40, 56}, -1, 1, gen);
  const Tensor before = net.forward(x);
  const FoldReport report = fold_batchnorm(net, {1, 3, 40, 56});
  REQUIRE(report.folded == 66);
  REQUIRE(report.left_alone == 9);
  // Folding reorders the float arithmetic; judged relative to the largest logit (the random BN
  // statistics let activations grow to hundreds).
  const std::vector<double> a = net.forward(x).to_doubles(), b = before.to_doubles();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  REQUIRE(diff <= 1e-5 * scale);
}

TEST_CASE("the registry builds pidnet-s in either graph", "[pidnet][registry]") {
  NetOptions o;
  o.graph = "infer";
  auto infer = create_net("pidnet-s", o);
  REQUIRE(infer->num_parameters() == 7625715);
  REQUIRE(dynamic_cast<PidNet*>(infer.get()) != nullptr);
  o.graph = "train";
  o.num_classes = 11;
  auto train = create_net("pidnet-s", o);
  REQUIRE(train->num_parameters() == 7718871);
  REQUIRE(dynamic_cast<PidNet&>(*train).training_graph());
  o.graph = "deploy";
  require_error([&] { create_net("pidnet-s", o); }, "pidnet-s: graph must be 'infer' or 'train'");
  require_error([&] { create_net("pidnet-xl", o); }, "pidnet-s");  // the known names are listed
  for (const NetInfo& n : registered_nets()) {
    if (n.name == "pidnet-s") {
      REQUIRE(n.output_stride == 8);
      REQUIRE(n.align_corners);
    }
  }
}
