// CIFReNet on the GPU against the CPU (itself checked against PyTorch by the parity tests):
// logits and every parameter gradient. Eval mode in fp32 with the whole-net bound 1e-4
// (normalized per tensor: max |Δ| / max |CPU|); training mode in fp64 at 1e-9, because batch
// statistics over the N = 2 pooled 1×1 maps amplify fp32 summation-order differences far beyond
// 1e-4 (see tools/reference/parity_cifrenet.py).
#include "../test_support.h"
#include "core/ops.h"
#include "gpu_compare.h"
#include "nets/cifrenet.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_doubles()) m = std::max(m, std::abs(v));
  return m;
}

// floor: gradients that are zero by construction (a bias right before a training-mode BN) are
// judged on the scale of the net's gradients, not on their own rounding noise.
double normalized(const Tensor& gpu, const Tensor& cpu, double floor = 1e-6) {
  const std::vector<double> g = gpu.to_doubles(), c = cpu.to_doubles();
  double diff = 0, scale = floor;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i])) return INFINITY;
    diff = std::max(diff, std::abs(g[i] - c[i]));
    scale = std::max(scale, std::abs(c[i]));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("CIFReNet forward and backward on the GPU match the CPU", "[gpu][cifrenet]") {
  DebugChecks debug;
  for (bool training : {false, true}) {
    INFO((training ? "training" : "eval") << " mode");
    CifreNetConfig c;
    c.num_classes = 11;
    c.dropout = 0.0;
    CifreNet cpu_net(c), gpu_net(c);
    const DType dt = training ? DType::F64 : DType::F32;
    const double tol = training ? 1e-9 : 1e-4;
    cpu_net.to(dt);
    gpu_net.to(dt);
    gpu_net.to(kGpu);
    cpu_net.train(training);
    gpu_net.train(training);
    Generator gen(5);
    // Odd sizes; the emulated device takes a quarter of the pixels (every layer and kernel choice
    // stays: its deepest maps are 7×9 instead of 13×17).
    const int64_t h = kEmulatedDevice ? 49 : 97, w = kEmulatedDevice ? 67 : 131;
    Tensor x = rand_uniform({2, 3, h, w}, -1, 1, gen, dt);
    std::vector<int64_t> labels(static_cast<size_t>(2 * h * w));
    for (auto& l : labels) l = gen.randint(12) == 11 ? 255 : gen.randint(11);
    Tensor y = Tensor::from_vector(labels, {2, h, w});
    Tensor cpu_logits = cpu_net.forward(x);
    Tensor gpu_logits = gpu_net.forward(x.to(kGpu));
    cross_entropy(cpu_logits, y).backward();
    cross_entropy(gpu_logits, y.to(kGpu)).backward();
    REQUIRE(normalized(gpu_logits, cpu_logits) <= tol);
    const NamedTensors cpu_params = cpu_net.named_parameters(),
                       gpu_params = gpu_net.named_parameters();
    double largest = 0;
    for (const auto& [name, p] : cpu_params) largest = std::max(largest, max_abs(p.grad()));
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      INFO(cpu_params[i].first);
      REQUIRE(normalized(gpu_params[i].second.grad(), cpu_params[i].second.grad(),
                         1e-3 * largest) <= tol);
    }
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}
