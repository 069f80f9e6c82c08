// ICFRNet on the GPU against the CPU: the training graph with the full ICFRNet loss (PIDNet's
// terms plus the complexity loss, MSE + T²·KL against a complexity map, and the complexity-
// weighted CE), every parameter gradient and one SGD step in float64 at 1e-9; the eval-mode
// logits and complexity map in float32 at 1e-4. Variant A (the registry's) and variant C (ICGA
// after stages 3 and 4, 7×7 attention) so that every refinement site runs.
#include "../test_support.h"
#include "data/boundary.h"
#include "data/photometric.h"
#include "data/synthetic.h"
#include "net_compare.h"
#include "nets/ic_loss.h"
#include "nets/icfrnet.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Batch {
  Tensor images, labels, edges, complexity;
};

Batch make_batch(DType dtype) {
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  std::vector<double> edges, complexity;
  for (uint64_t seed : {5, 6}) {
    const data::Sample s = data::render_street_scene(128, 64, seed);
    images.push_back(
        reshape(data::to_tensor(s.image, data::Normalization::ImageNet), {1, 3, 64, 128}));
    for (int16_t v : s.label.values) labels.push_back(v);
    const auto boundary = data::boundary_map(s.label);
    for (int16_t v : boundary.values) edges.push_back(v);
    // A smooth stand-in for the teacher's complexity map, brighter on label boundaries.
    for (size_t i = 0; i < boundary.values.size(); ++i) {
      complexity.push_back(boundary.values[i] ? 0.85 : 0.15 + 0.5 * double(i % 128) / 128.0);
    }
  }
  return {concat(images, 0).to(dtype), Tensor::from_vector(labels, {2, 64, 128}),
          Tensor::from_doubles(edges, {2, 1, 64, 128}, dtype),
          Tensor::from_doubles(complexity, {2, 1, 64, 128}, dtype)};
}

IcfrNetConfig variant(bool stages34) {
  IcfrNetConfig cfg;
  cfg.pidnet.num_classes = 19;
  cfg.pidnet.training_graph = true;
  cfg.pidnet.seed = 9;
  if (stages34) {
    cfg.placement = IcfrNetConfig::Placement::Stages34;
    cfg.icga_kernel = 7;
  }
  return cfg;
}

}  // namespace

TEST_CASE("ICFRNet training step on the GPU matches the CPU", "[gpu][icfrnet]") {
  const Batch b = make_batch(DType::F64);
  for (bool stages34 : {false, true}) {
    INFO((stages34 ? "variant C, 7x7 ICGA" : "variant A"));
    IcfrNet cpu_net(variant(stages34)), gpu_net(variant(stages34));
    cpu_net.to(DType::F64);
    gpu_net.to(DType::F64);
    gpu_net.to(kGpu);
    cpu_net.train();
    gpu_net.train();
    IcfrnetLossOptions lo;
    lo.segmentation.ohem_min_kept = 2000;
    compare_training_step(
        cpu_net, gpu_net,
        [&](Module& net, Device device) {
          const IcfrNetOutputs out =
              static_cast<IcfrNet&>(net).forward_outputs(b.images.to(device));
          return icfrnet_loss(out.heads.list(), out.ic_logits, b.labels.to(device),
                              b.edges.to(device), b.complexity.to(device), lo)
              .total;
        },
        1e-9);
  }
}

TEST_CASE("ICFRNet eval logits and complexity map on the GPU match the CPU in float32",
          "[gpu][icfrnet]") {
  DebugChecks debug;
  const Batch b = make_batch(DType::F32);
  IcfrNetConfig cfg = variant(false);
  cfg.pidnet.training_graph = false;
  IcfrNet cpu_net(cfg), gpu_net(cfg);
  gpu_net.to(kGpu);
  cpu_net.eval();
  gpu_net.eval();
  autograd::NoGradGuard no_grad;
  const IcfrNetOutputs c = cpu_net.forward_outputs(b.images);
  const IcfrNetOutputs g = gpu_net.forward_outputs(b.images.to(kGpu));
  REQUIRE(normalized(g.heads.main, c.heads.main) <= 1e-4);
  REQUIRE(normalized(g.ic_map, c.ic_map) <= 1e-4);
  REQUIRE(cuda::take_guard_violations() == 0);
}
