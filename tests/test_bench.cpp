// The benchmarks: the conv shapes the kernel benchmark times are the ones the nets really run;
// the net benchmark runs its protocol end to end (on the CPU here; timings are not asserted).
#include "apps/bench/conv_shapes.h"
#include "apps/bench/net_bench.h"
#include "nets/cifrenet.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("CIFReNet's distinct conv shapes at 360x640", "[bench]") {
  CifreNet net(CifreNetConfig{});
  const std::vector<ConvShape> shapes = collect_conv_shapes(net, {1, 3, 360, 640});
  int convs = 0, depthwise = 0;
  bool saw_d5 = false, saw_d23 = false;
  for (const ConvShape& s : shapes) {
    convs += s.count;
    depthwise += s.depthwise() ? s.count : 0;
    saw_d5 |= s.depthwise() && s.input == Shape{1, 960, 45, 80} && s.dilation == 5;
    saw_d23 |= s.depthwise() && s.input == Shape{1, 64, 45, 80} && s.dilation == 23;
  }
  // 17 inverted-residual blocks × 3 convs + stem + LRM 2 + MCIM 1 + 3 DSP × (1 + 1 + 8) +
  // classifier 2.
  REQUIRE(convs == 17 * 3 + 1 + 2 + 1 + 3 * 10 + 2);
  REQUIRE(depthwise == 17 + 1 + 3 * 4);
  REQUIRE(saw_d5);
  REQUIRE(saw_d23);
  REQUIRE(shapes.size() < static_cast<size_t>(convs));  // repeated blocks share shapes
  REQUIRE(shapes.front().describe() == "1x3x360x640 -> 32, 3x3 s2 p1 d1 g1");
}

TEST_CASE("the net benchmark runs the protocol on the CPU and reports its numbers", "[bench]") {
  NetBenchOptions o;
  o.height = 64;
  o.width = 96;
  o.seconds = 0.05;
  o.warmup = 1;
  o.use_gpu = false;
  const NetBenchResult r = run_net_bench(o);
  REQUIRE(r.device == "cpu");
  REQUIRE(r.params == 1949901);
  REQUIRE(r.folded_bn > 60);
  REQUIRE(r.iterations >= 10);
  REQUIRE(r.fps > 0);
  REQUIRE(r.end_to_end_ms >= r.latency_ms * 0.5);
  REQUIRE(r.macs.conv > 0);
  REQUIRE(r.layers.size() >= 10);  // mod1…mod8, LRM, multi_scale, attention, final (those that ran)
  REQUIRE(net_bench_json(r).find("\"fps\"") != std::string::npos);
  REQUIRE(format_net_bench(r).find("protocol (logits at 1/8)") != std::string::npos);
  o.net = "segformer";
  require_error([&] { run_net_bench(o); }, "unknown net 'segformer'");
}
