// ICFRNet (variant A of docs/icfrnet.md and "Open choices" #2–#7): PIDNet-S's keys unchanged and
// first, ICFRNet's 35 own keys after them, exact parameter counts and MACs of docs/counts.md and
// docs/icfrnet.md, "Counts", output shapes at odd sizes, what the ICGA gates do, gradients
// reaching every parameter and the registry entry. PyTorch parity: tests/parity.
#include <cmath>
#include <set>

#include "net_test_util.h"
#include "nets/icfrnet.h"
#include "nets/registry.h"
#include "nets/summary.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

using Cfg = IcfrNetConfig;

IcfrNetConfig a_config(bool training_graph, int64_t classes = 19) {
  IcfrNetConfig c;
  c.pidnet.num_classes = classes;
  c.pidnet.training_graph = training_graph;
  return c;
}

int64_t eighth(int64_t v) { return (((v + 1) / 2 + 1) / 2 + 1) / 2; }

void add_bn(std::vector<KeyLine>& keys, const std::string& prefix, const std::string& c) {
  keys.push_back({prefix + ".weight", c, "param"});
  keys.push_back({prefix + ".bias", c, "param"});
  keys.push_back({prefix + ".running_mean", c, "buffer"});
  keys.push_back({prefix + ".running_var", c, "buffer"});
  keys.push_back({prefix + ".num_batches_tracked", "", "buffer"});
}

// docs/icfrnet.md, "Parameter names": the keys ICFRNet adds after PIDNet-S's.
std::vector<KeyLine> icfrnet_own_keys() {
  std::vector<KeyLine> keys;
  for (const std::string b : {"ic_layer.0", "ic_layer.1"}) {
    keys.push_back({b + ".conv1.weight", "64,64,3,3", "param"});
    add_bn(keys, b + ".bn1", "64");
    keys.push_back({b + ".conv2.weight", "64,64,3,3", "param"});
    add_bn(keys, b + ".bn2", "64");
  }
  keys.push_back({"ic_head.conv.weight", "1,64,3,3", "param"});
  keys.push_back({"ic_head.conv.bias", "1", "param"});
  add_bn(keys, "ic_head.bn", "1");
  for (const std::string a : {"icga_p", "icga_d"}) {
    keys.push_back({a + ".conv.weight", "1,66,3,3", "param"});
    keys.push_back({a + ".conv.bias", "1", "param"});
  }
  return keys;
}

// Makes every ICGA gate constant: A = sigmoid(±40), i.e. 1 or 0 to double precision.
void saturate_gates(IcfrNet& net, double logit) {
  for (const auto& a :
       {net.icga_p, net.icga_d, net.icga_p3, net.icga_d3, net.icga_p4, net.icga_d4}) {
    if (!a) continue;
    a->conv->weight.fill(0.0);
    a->conv->bias.fill(logit);
  }
}

}  // namespace

TEST_CASE("ICFRNet keeps PIDNet-S's keys in order and adds its own 35 after them", "[icfrnet]") {
  for (const bool train : {false, true}) {
    const std::string file = train ? "pidnet_s_train_19.tsv" : "pidnet_s_infer_19.tsv";
    INFO(file);
    const std::vector<KeyLine> pidnet = read_key_list(file);
    REQUIRE_FALSE(pidnet.empty());
    IcfrNet net(a_config(train));
    const std::vector<KeyLine> actual = key_lines_of(net);
    const std::vector<KeyLine> own = icfrnet_own_keys();
    REQUIRE(own.size() == 35);
    REQUIRE(actual.size() == pidnet.size() + own.size());
    require_key_lines(actual, pidnet);
    require_key_lines(actual, own, pidnet.size());
  }
}

namespace {

IcfrNetConfig variant(char v) {
  IcfrNetConfig c = a_config(false);
  if (v == 'B') c.ic_head = Cfg::IcHead::SegmentHead;
  if (v == 'C') c.placement = Cfg::Placement::Stages34;
  if (v == 'D') c.icga_kernel = 7;
  if (v == 'E') c.guidance = Cfg::Guidance::Map;
  return c;
}

// docs/icfrnet.md, "Counts", gives two decimals: within 0.006 G.
void require_variant_macs(char v, double conv, double thop2021, double thop2022) {
  IcfrNet net(variant(v));
  const ModelSummary s = summarize(net, {1, 3, 1024, 2048});
  REQUIRE(s.total().macs.conv == Approx(conv).margin(0.006e9));
  REQUIRE(s.total().macs.thop2021 == Approx(thop2021).margin(0.006e9));
  REQUIRE(s.total().macs.thop2022 == Approx(thop2022).margin(0.006e9));
}

}  // namespace

TEST_CASE("ICFRNet parameter counts match docs/counts.md for variant A", "[icfrnet]") {
  REQUIRE(IcfrNet(a_config(false)).num_parameters() == 7775452);
  IcfrNet train(a_config(true));
  REQUIRE(train.num_parameters() == 7870672);
  REQUIRE(train.ic_layer->num_parameters() == 147968);
  REQUIRE(train.ic_head->num_parameters() == 579);
  REQUIRE(train.icga_p->num_parameters() == 595);
  REQUIRE(train.icga_d->num_parameters() == 595);
  REQUIRE(train.icga_p3 == nullptr);
  REQUIRE(IcfrNet(a_config(false, 11)).num_parameters() ==
          7775452 - 8 * 129);  // CamVid: 8 fewer classes
}

TEST_CASE("ICFRNet parameter counts of the variants B–E (docs/icfrnet.md, Counts)", "[icfrnet]") {
  REQUIRE(IcfrNet(variant('B')).num_parameters() == 7849114);
  IcfrNetConfig b = variant('B');
  b.pidnet.training_graph = true;
  REQUIRE(IcfrNet(b).num_parameters() == 7944334);
  IcfrNet c(variant('C'));
  REQUIRE(c.num_parameters() == 7776642);
  REQUIRE((c.icga_p == nullptr && c.icga_d == nullptr && c.icga_p3 && c.icga_d3 && c.icga_p4 &&
           c.icga_d4));
  REQUIRE(IcfrNet(variant('D')).num_parameters() == 7780732);
  REQUIRE(IcfrNet(variant('E')).num_parameters() == 7774318);
}

TEST_CASE("ICFRNet ICGA options: bias, kernel checks", "[icfrnet]") {
  IcfrNetConfig no_bias = a_config(false);
  no_bias.icga_bias = false;
  IcfrNet net(no_bias);
  REQUIRE(net.num_parameters() == 7775452 - 2);
  REQUIRE_FALSE(net.icga_p->conv->bias.defined());
  IcfrNetConfig even = a_config(false);
  even.icga_kernel = 4;
  require_error([&] { IcfrNet{even}; },
                "SpatialAttention: needs guidance channels >= 0 and an odd kernel");
}

namespace {

void require_a_counts(bool train, int64_t params, double conv, double thop2021, double thop2022) {
  IcfrNet net(a_config(train));
  const ModelSummary s = summarize(net, {1, 3, 1024, 2048});
  REQUIRE(s.total().params == params);
  REQUIRE(s.total().macs.conv == Approx(conv).epsilon(1e-3));
  REQUIRE(s.total().macs.thop2021 == Approx(thop2021).epsilon(1e-3));
  REQUIRE(s.total().macs.thop2022 == Approx(thop2022).epsilon(1e-3));
  REQUIRE(s.total().output == Shape{1, 19, 128, 256});
}

}  // namespace

// docs/counts.md, "ICFRNet": variant A, 19 classes.
TEST_CASE("ICFRNet inference graph: MACs at 1024×2048 within 0.1% of the reference",
          "[icfrnet][summary]") {
  require_a_counts(false, 7775452, 52.084e9, 52.390e9, 52.652e9);
}

TEST_CASE("ICFRNet training graph: MACs at 1024×2048 within 0.1% (the paper's 7.9 M / 55.8 G)",
          "[icfrnet][summary]") {
  require_a_counts(true, 7870672, 55.185e9, 55.510e9, 55.791e9);
}

TEST_CASE("ICFRNet variant B (segmenthead IC head): MACs of docs/icfrnet.md",
          "[icfrnet][summary]") {
  require_variant_macs('B', 54.49e9, 54.80e9, 55.08e9);
}

TEST_CASE("ICFRNet variant C (ICGA after stages 3 and 4): MACs of docs/icfrnet.md",
          "[icfrnet][summary]") {
  require_variant_macs('C', 52.12e9, 52.43e9, 52.69e9);
}

TEST_CASE("ICFRNet variant D (7×7 ICGA): MACs of docs/icfrnet.md", "[icfrnet][summary]") {
  require_variant_macs('D', 52.26e9, 52.56e9, 52.83e9);
}

TEST_CASE("ICFRNet variant E (1-channel map as guidance): MACs of docs/icfrnet.md",
          "[icfrnet][summary]") {
  require_variant_macs('E', 52.05e9, 52.35e9, 52.62e9);
}

TEST_CASE("ICFRNet outputs: heads at 1/8 and the complexity map at the input size, any size",
          "[icfrnet]") {
  IcfrNet net(a_config(true, 5));
  net.eval();
  autograd::NoGradGuard no_grad;
  Generator gen(1);
  randomize_batch_norms(net, gen);
  const int64_t h = 97, w = 131;
  Tensor x = rand_uniform({1, 3, h, w}, -1, 1, gen);
  const IcfrNetOutputs out = net.forward_outputs(x);
  REQUIRE(out.heads.main.shape() == Shape{1, 5, eighth(h), eighth(w)});
  REQUIRE(out.heads.aux_p.shape() == Shape{1, 5, eighth(h), eighth(w)});
  REQUIRE(out.heads.boundary.shape() == Shape{1, 1, eighth(h), eighth(w)});
  REQUIRE(out.ic_logits.shape() == Shape{1, 1, eighth(h), eighth(w)});
  REQUIRE(out.ic_map.shape() == Shape{1, 1, h, w});
  // Î_c = sigmoid(bilinear(L, H × W)), align_corners = False, in (0, 1).
  require_close(out.ic_map, sigmoid(interpolate_bilinear(out.ic_logits, h, w, false)), 0, 0);
  bool in_range =
      true;  // [0, 1]: Kaiming-initialised 1-channel logits are large, the sigmoid saturates
  for (double v : out.ic_map.to_doubles()) in_range = in_range && v >= 0 && v <= 1;
  REQUIRE(in_range);
  // forward(x) is the main logits; forward_heads skips only the full-size map.
  require_close(net.forward(x), out.heads.main, 0, 0);
  require_close(net.forward_heads(x).aux_p, out.heads.aux_p, 0, 0);
  // The IC head reads ReLU(Z): Z = ic_layer(X8), X8 the shared stem's output.
  Tensor x8 = relu(net.layer2->forward(relu(net.layer1->forward(net.conv1->forward(x)))));
  const auto& head = dynamic_cast<IcHead&>(*net.ic_head);
  require_close(out.ic_logits,
                head.bn->forward(head.conv->forward(relu(net.ic_layer->forward(x8)))), 1e-6, 1e-6);
}

namespace {

// PIDNet-S and ICFRNet built with the same seed share every PIDNet-S weight (ICFRNet draws its
// own from a separate stream), so ICFRNet with A = 1 must reproduce PIDNet-S.
struct SameWeights {
  IcfrNetConfig config;
  Tensor x;
  PidNetHeads reference;
  SameWeights() {
    config.pidnet.num_classes = 4;
    config.pidnet.training_graph = true;
    config.pidnet.seed = 7;
    PidNet pidnet(config.pidnet);
    pidnet.eval();
    autograd::NoGradGuard no_grad;
    Generator gen(2);
    x = rand_uniform({1, 3, 40, 48}, -1, 1, gen);
    reference = pidnet.forward_heads(x);
  }
};

}  // namespace

TEST_CASE("ICGA gates P5 and D5: A = 1 gives PIDNet-S, A = 0 changes only the main logits",
          "[icfrnet]") {
  SameWeights s;
  IcfrNet net(s.config);
  net.eval();
  autograd::NoGradGuard no_grad;
  saturate_gates(net, 40.0);  // A = 1: no refinement
  PidNetHeads heads = net.forward_heads(s.x);
  require_close(heads.main, s.reference.main, 1e-6, 1e-6);
  require_close(heads.aux_p, s.reference.aux_p, 1e-6, 1e-6);
  require_close(heads.boundary, s.reference.boundary, 1e-6, 1e-6);
  saturate_gates(net, -40.0);  // A = 0: P5 and D5 vanish before Light-Bag
  heads = net.forward_heads(s.x);
  require_close(heads.aux_p, s.reference.aux_p, 1e-6, 1e-6);  // stages 3 and 4 are untouched
  require_close(heads.boundary, s.reference.boundary, 1e-6, 1e-6);
  REQUIRE(closeness(heads.main, s.reference.main, 1e-3, 1e-3) > 1.0);
}

TEST_CASE("ICGA options: residual gating, stage-3/4 placement", "[icfrnet]") {
  SameWeights s;
  autograd::NoGradGuard no_grad;
  IcfrNetConfig r = s.config;
  r.icga_residual = true;
  IcfrNet residual(r);
  residual.eval();
  saturate_gates(residual, -40.0);  // S·(1 + 0) = S
  require_close(residual.forward(s.x), s.reference.main, 1e-6, 1e-6);

  IcfrNetConfig s34 = s.config;
  s34.placement = Cfg::Placement::Stages34;
  IcfrNet staged(s34);
  staged.eval();
  saturate_gates(staged, 40.0);
  require_close(staged.forward_heads(s.x).main, s.reference.main, 1e-6, 1e-6);
  staged.icga_p3->conv->bias.fill(-40.0);  // P3' = 0: what seghead_p reads changes
  REQUIRE(closeness(staged.forward_heads(s.x).aux_p, s.reference.aux_p, 1e-3, 1e-3) > 1.0);
}

TEST_CASE("ICGA: the complexity feature Z enters the gate", "[icfrnet]") {
  IcfrNet net(a_config(false, 4));
  net.eval();
  autograd::NoGradGuard no_grad;
  Generator gen(2);
  Tensor x = rand_uniform({1, 3, 40, 48}, -1, 1, gen);
  const Tensor before = net.forward(x);
  for (const auto& [name, p] : net.ic_layer->named_parameters()) {
    if (name == "1.conv2.weight") p.fill(0.01);
  }
  REQUIRE(closeness(net.forward(x), before, 1e-4, 1e-4) > 1.0);
}

namespace {

// All heads' losses of a training-graph forward on a 2×3×48×64 batch plus an MSE on the
// complexity map, backward run.
// In float64: at this size the training-mode BNs see few values per channel and the largest
// gradients are sensitive to rounding (float32 runs of the same net differ by an order of
// magnitude in them), while the test is about which gradients are structurally zero.
void backward_all_outputs(IcfrNet& net) {
  net.to(DType::F64);
  Generator gen(3);
  Tensor x = rand_uniform({2, 3, 48, 64}, -1, 1, gen, DType::F64);
  std::vector<int64_t> labels(2 * 6 * 8);
  for (auto& l : labels) l = gen.randint(4);
  const Tensor target = Tensor::from_vector(labels, {2, 6, 8});
  const IcfrNetOutputs out = net.forward_outputs(x);
  Tensor loss =
      add(add(cross_entropy(out.heads.aux_p, target), cross_entropy(out.heads.main, target)),
          add(mse_loss(out.heads.boundary, rand_uniform({2, 1, 6, 8}, 0, 1, gen, DType::F64)),
              mse_loss(out.ic_map, rand_uniform({2, 1, 48, 64}, 0, 1, gen, DType::F64))));
  loss.backward();
}

}  // namespace

TEST_CASE("every ICFRNet parameter receives a gradient in the training graph", "[icfrnet][grad]") {
  SECTION("eval mode (running statistics): every gradient is non-zero") {
    IcfrNet net(a_config(true, 4));
    net.eval();
    backward_all_outputs(net);
    for (const auto& [name, g] : relative_gradients(net)) {
      INFO(name);
      REQUIRE(g > 1e-7);
    }
  }
  SECTION("training mode: non-zero except where a training-mode BN removes the parameter again") {
    IcfrNet net(a_config(true, 4));
    net.train();
    backward_all_outputs(net);
    // As for PIDNet-S (test_pidnet.cpp), plus the IC head's conv bias right before its BN.
    const std::set<std::string> structural_zero = {"conv1.0.bias", "conv1.3.bias",
                                                   "dfm.conv_p.1.bias", "dfm.conv_i.1.bias",
                                                   "ic_head.conv.bias"};
    const auto grads = relative_gradients(net);
    REQUIRE(grads.size() == IcfrNet(a_config(true, 4)).named_parameters().size());
    for (const auto& [name, g] : grads) {
      INFO(name);
      // In float64 the structural zeros are rounding (≤ 2e-15 measured) and the smallest real
      // gradient is 5e-8 of the largest: the thresholds sit well inside that gap.
      if (structural_zero.count(name)) {
        REQUIRE(g < 1e-12);
      } else if (name.rfind("layer5.", 0) != 0 && name.rfind("spp.", 0) != 0) {
        REQUIRE(g > 1e-10);
      }
    }
  }
}

TEST_CASE("the registry builds icfrnet (variant A) in either graph", "[icfrnet][registry]") {
  NetOptions o;
  auto infer = create_net("icfrnet", o);
  REQUIRE(infer->num_parameters() == 7775452);
  REQUIRE(infer->type_name() == "ICFRNet");
  o.graph = "train";
  auto train = create_net("icfrnet", o);
  REQUIRE(train->num_parameters() == 7870672);
  REQUIRE(dynamic_cast<IcfrNet&>(*train).training_graph());
  o.graph = "both";
  require_error([&] { create_net("icfrnet", o); }, "icfrnet: graph must be 'infer' or 'train'");
}
