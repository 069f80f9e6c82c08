// The IC9600 ICNet teacher (docs/icfrnet.md, "IC9600 teacher"): the authors' state_dict keys,
// shapes and kinds in order (tests/data/keys/ic9600_icnet.tsv), the exact parameter count, output
// shapes (a real forward at 64×64; 512×512 through the shapes-only summary, with the conv MACs of
// docs/counts.md, "IC9600 ICNet teacher"), the outputs' ranges, gradients of the modules
// (SLAM, blocks), and the frozen pseudo-label function.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "core/autograd.h"
#include "net_test_util.h"
#include "nets/icnet_teacher.h"
#include "nets/summary.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// One teacher for the whole file: building 20 M parameters takes a moment.
IcnetTeacher& shared_teacher() {
  static const std::shared_ptr<IcnetTeacher> teacher =
      std::make_shared<IcnetTeacher>(IcnetTeacherOptions{512, 7});
  return *teacher;
}

}  // namespace

TEST_CASE("ICNet has exactly the authors' state_dict keys, shapes and kinds, in order", "[icnet]") {
  const std::vector<KeyLine> expected = read_key_list("ic9600_icnet.tsv");
  REQUIRE(expected.size() == 246);
  IcnetTeacher& net = shared_teacher();
  const std::vector<KeyLine> actual = key_lines_of(net);
  REQUIRE(actual.size() == expected.size());
  require_key_lines(actual, expected);
}

TEST_CASE("ICNet has 20,328,074 parameters: 246 entries, 144 of them parameters", "[icnet]") {
  IcnetTeacher& net = shared_teacher();
  REQUIRE(net.num_parameters() == 20328074);
  REQUIRE(net.state_dict().size() == 246);
  REQUIRE(net.named_parameters().size() == 144);
  // The groups of the teacher's state_dict: shared trunk 14,292,102, map head 2,886,658, score
  // head 3,149,314.
  int64_t map_head = 0, score_head = 0;
  for (const auto& [k, t] : net.named_parameters()) {
    if (k.rfind("to_map", 0) == 0) map_head += t.numel();
    if (k.rfind("to_score", 0) == 0 || k.rfind("head.", 0) == 0) score_head += t.numel();
  }
  REQUIRE(map_head == 2886658);
  REQUIRE(score_head == 3149314);
  // The weights do not depend on the input size (the SLAM sizes are fixed).
  IcnetTeacher small(IcnetTeacherOptions{128, 7});
  REQUIRE(small.num_parameters() == 20328074);
}

// Runs the teacher with both heads, as the authors' IC9600 forward does (for the MAC count).
class BothHeads : public Module {
 public:
  BothHeads() { net = register_module("net", std::make_shared<IcnetTeacher>()); }
  Tensor forward_impl(const Tensor& x) override { return net->forward_with_score(x).map; }
  std::string type_name() const override { return "BothHeads"; }
  std::shared_ptr<IcnetTeacher> net;
};

TEST_CASE("ICNet at 512×512: a 1×64×64 map, and 28.34 G conv-MACs with both heads (shapes-only)",
          "[icnet]") {
  IcnetTeacher& net = shared_teacher();
  const ModelSummary s = summarize(net, {1, 3, 512, 512});
  REQUIRE(s.total().output == Shape{1, 1, 64, 64});
  REQUIRE(s.total().params == 20328074);
  for (const ModuleSummary& m : s.modules) {
    if (m.path == "b1_1") REQUIRE(m.output == Shape{1, 64, 128, 128});
    if (m.path == "b1_2") REQUIRE(m.output == Shape{1, 128, 64, 64});
    if (m.path == "b2_1") REQUIRE(m.output == Shape{1, 64, 64, 64});
    if (m.path == "b2_4") REQUIRE(m.output == Shape{1, 512, 8, 8});
    if (m.path == "up1" || m.path == "up2") REQUIRE(m.output == Shape{1, 256, 64, 64});
  }
  // The map path alone (what the pseudo-labels cost): the score head's 3×3 conv 512→512 at 64²
  // (9.66 G) and its SLAM (0.27 G) do not run.
  CHECK(s.total().macs.conv / 1e9 == Approx(18.4065).margin(0.0005));
  // The 28.34 conv-GMACs per 512² image of docs/counts.md ("IC9600 ICNet teacher") is the
  // authors' forward with both heads.
  BothHeads both;
  const ModelSummary full = summarize(both, {1, 3, 512, 512});
  CHECK(full.total().macs.conv / 1e9 == Approx(28.34).margin(0.005));
}

TEST_CASE("ICNet forward: map in (0, 1) at 1/8 of the input, score in (0, 1)", "[icnet]") {
  // A real CPU forward (S = 64 keeps it near a second: the SLAM MLPs cost ~0.5 G MACs per image
  // whatever S is). The weights and graph are those of S = 512 (see the parameter test).
  IcnetTeacher net(IcnetTeacherOptions{64, 3});
  net.eval();
  autograd::NoGradGuard no_grad;
  Generator gen(5);
  const Tensor x = rand_normal({1, 3, 64, 64}, 0.0, 1.0, gen);
  const IcnetTeacher::Outputs out = net.forward_with_score(x);
  REQUIRE(out.map.shape() == Shape{1, 1, 8, 8});
  REQUIRE(out.score.shape() == Shape{1});
  for (double v : out.map.to_doubles()) REQUIRE((v > 0.0 && v < 1.0));
  for (double v : out.score.to_doubles()) REQUIRE((v > 0.0 && v < 1.0));
  // The map is not constant: the input's layout reaches it.
  const std::vector<double> v = out.map.to_doubles();
  REQUIRE(*std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()) > 1e-6);
}

TEST_CASE("ICNet rejects inputs of the wrong size or channels", "[icnet]") {
  IcnetTeacher net(IcnetTeacherOptions{128, 0});
  autograd::NoGradGuard no_grad;
  require_error(
      [&] {
        net.forward(Tensor::zeros({1, 3, 64, 64}));
      },
      "ICNet: input must be N×3×128×128");
  require_error([&] { net.forward(Tensor::zeros({1, 1, 128, 128})); }, "ICNet: input must be");
  require_error([] { IcnetTeacher bad(IcnetTeacherOptions{100, 0}); }, "ICNet: input_size");
}

TEST_CASE("SLAM scales each channel by sigmoid(MLP(its s×s layout)), with gradients", "[icnet]") {
  Generator gen(11);
  icnet::Slam slam(4, gen);
  slam.to(DType::F64);
  // Equal size: no resize. Hand formula with the module's own weights.
  const Tensor x = random_input({2, 3, 4, 4}, gen);
  const Tensor y = slam.forward(x);
  const Tensor w0 = slam.linear->parameters()[0], b0 = slam.linear->parameters()[1];
  const Tensor w1 = slam.linear->parameters()[2], b1 = slam.linear->parameters()[3];
  const std::vector<double> xv = x.to_doubles(), yv = y.to_doubles(), W0 = w0.to_doubles(),
                            B0 = b0.to_doubles(), W1 = w1.to_doubles();
  const double B1 = b1.item();
  for (int64_t nc = 0; nc < 6; ++nc) {
    double z = B1;
    for (int64_t j = 0; j < 512; ++j) {
      double hidden = B0[size_t(j)];
      for (int64_t k = 0; k < 16; ++k) hidden += W0[size_t(j * 16 + k)] * xv[size_t(nc * 16 + k)];
      z += W1[size_t(j)] * std::max(hidden, 0.0);
    }
    const double scale = 1.0 / (1.0 + std::exp(-z));
    for (int64_t k = 0; k < 16; ++k) {
      REQUIRE(yv[size_t(nc * 16 + k)] == Approx(scale * xv[size_t(nc * 16 + k)]).margin(1e-12));
    }
  }
  // Other sizes are resized for the MLP only; the output keeps the input's size.
  const Tensor odd = random_input({1, 2, 7, 5}, gen);
  REQUIRE(slam.forward(odd).shape() == odd.shape());
  gradcheck([&](const std::vector<Tensor>& in) { return slam.forward(in[0]); }, {odd});
}

TEST_CASE("ResNet BasicBlock with downsample: gradients check in float64", "[icnet]") {
  Generator gen(2);
  icnet::BasicBlock block(3, 4, 2, gen);
  REQUIRE(block.downsample != nullptr);
  block.to(DType::F64);
  block.eval();  // running statistics: a smooth function of the input
  const Tensor x = random_input({1, 3, 5, 7}, gen);
  const Tensor y = block.forward(x);
  REQUIRE(y.shape() == Shape{1, 4, 3, 4});
  gradcheck([&](const std::vector<Tensor>& in) { return block.forward(in[0]); }, {x});
}

TEST_CASE("teacher_complexity: eval, no grad, crops resized to S and maps back to the crop",
          "[icnet]") {
  IcnetTeacher net(IcnetTeacherOptions{64, 9});
  net.train();
  Generator gen(4);
  Tensor crops = rand_normal({1, 3, 40, 56}, 0.0, 1.0, gen);
  crops.set_requires_grad(true);
  const Tensor maps = teacher_complexity(net, crops);
  REQUIRE(maps.shape() == Shape{1, 1, 40, 56});
  REQUIRE(!maps.requires_grad());
  REQUIRE(net.is_training());  // the flag is restored
  // The same as doing it by hand in eval mode.
  net.eval();
  autograd::NoGradGuard no_grad;
  const Tensor by_hand = interpolate_bilinear(
      net.forward(interpolate_bilinear(crops.detach(), 64, 64, false)), 40, 56, false);
  require_close(maps, by_hand, 0, 0);
  // BN running statistics were not touched (eval).
  for (const auto& [k, t] : net.named_buffers()) {
    if (k.find("running_mean") != std::string::npos) {
      for (double v : t.to_doubles()) REQUIRE(v == 0.0);
    }
  }
  require_error(
      [&] {
        teacher_complexity(net, Tensor::zeros({1, 1, 8, 8}));
      },
      "teacher_complexity: crops must be N×3×H×W");
}

// Not run by default (hidden): how long a real CPU forward takes, for the report/bench notes.
TEST_CASE("ICNet CPU forward timing at 512, 256 and 128", "[.][timing]") {
  autograd::NoGradGuard no_grad;
  for (int64_t s : {128, 256, 512}) {
    IcnetTeacher sized(IcnetTeacherOptions{s, 7});
    sized.eval();
    const Tensor x = Tensor::zeros({1, 3, s, s});
    const auto start = std::chrono::steady_clock::now();
    const Tensor map = sized.forward(x);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN("ICNet forward " << s << "x" << s << ": " << seconds << " s, map " << map.describe());
  }
}
