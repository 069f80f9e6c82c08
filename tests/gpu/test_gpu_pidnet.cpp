// PIDNet-S on the GPU against the CPU (itself checked against PyTorch by the parity tests): the
// training graph with PIDNet's full loss (OHEM cross-entropy on two heads, boundary BCE, the
// boundary-aware CE), every parameter gradient and one SGD step, in float64 at 1e-9 (training-
// mode batch statistics over small maps amplify float32 summation-order differences, as in the
// CIFReNet test); and the eval-mode logits in float32 at 1e-4.
#include "../test_support.h"
#include "data/boundary.h"
#include "data/photometric.h"
#include "data/synthetic.h"
#include "net_compare.h"
#include "nets/pidnet.h"
#include "nets/pidnet_loss.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Batch {
  Tensor images, labels, edges;
};

// Two synthetic street scenes at 64×128 (labels with ignored pixels, their boundary maps).
Batch make_batch(DType dtype) {
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  std::vector<double> edges;
  for (uint64_t seed : {3, 4}) {
    const data::Sample s = data::render_street_scene(128, 64, seed);
    images.push_back(
        reshape(data::to_tensor(s.image, data::Normalization::ImageNet), {1, 3, 64, 128}));
    for (int16_t v : s.label.values) labels.push_back(v);
    for (int16_t v : data::boundary_map(s.label).values) edges.push_back(v);
  }
  return {concat(images, 0).to(dtype), Tensor::from_vector(labels, {2, 64, 128}),
          Tensor::from_doubles(edges, {2, 1, 64, 128}, dtype)};
}

}  // namespace

TEST_CASE("PIDNet-S training step on the GPU matches the CPU", "[gpu][pidnet]") {
  const Batch b = make_batch(DType::F64);
  PidNetConfig cfg;
  cfg.num_classes = 19;
  cfg.training_graph = true;
  cfg.seed = 7;
  PidNet cpu_net(cfg), gpu_net(cfg);
  cpu_net.to(DType::F64);
  gpu_net.to(DType::F64);
  gpu_net.to(kGpu);
  cpu_net.train();
  gpu_net.train();
  PidnetLossOptions lo;
  lo.ohem_min_kept = 2000;
  compare_training_step(
      cpu_net, gpu_net,
      [&](Module& net, Device device) {
        const PidNetHeads h = static_cast<PidNet&>(net).forward_heads(b.images.to(device));
        return pidnet_loss(h.list(), b.labels.to(device), b.edges.to(device), lo).total;
      },
      1e-9);
}

TEST_CASE("PIDNet-S eval logits on the GPU match the CPU in float32", "[gpu][pidnet]") {
  DebugChecks debug;
  const Batch b = make_batch(DType::F32);
  PidNetConfig cfg;
  cfg.num_classes = 11;
  cfg.seed = 8;
  PidNet cpu_net(cfg), gpu_net(cfg);
  gpu_net.to(kGpu);
  cpu_net.eval();
  gpu_net.eval();
  autograd::NoGradGuard no_grad;
  REQUIRE(normalized(gpu_net.forward(b.images.to(kGpu)), cpu_net.forward(b.images)) <= 1e-4);
  REQUIRE(cuda::take_guard_violations() == 0);
}
