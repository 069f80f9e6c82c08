// PIDNet-S and ICFRNet learn on the CPU with their full training losses (the training graph with
// the P-aux and boundary heads; ICFRNet adds the IC loss against a complexity map): SGD on two
// small CamVid crops (synthetic scenes when CamVid is absent) must lower the total loss by a
// large factor. Also a finite-difference check of the whole PIDNet-S in float64.
#include "data/boundary.h"
#include "data/camvid.h"
#include "data/geometry.h"
#include "data/photometric.h"
#include "data/synthetic.h"
#include "nets/ic_loss.h"
#include "nets/icfrnet.h"
#include "nets/pidnet.h"
#include "nets/pidnet_loss.h"
#include "optim/sgd.h"
#include "test_data_fixtures.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Crops {
  Tensor images, labels, edges, complexity;
  int classes = 19;
};

Crops make_crops(int size) {
  std::vector<data::Sample> samples;
  Crops c;
  if (camvid_available()) {
    auto camvid = data::camvid_segnet(camvid_root(), "train");
    c.classes = camvid->num_classes();
    for (size_t i : {0, 120}) {
      data::Sample s = camvid->get(i);
      data::crop_sample(s, 200, 180, size, size);
      samples.push_back(s);
    }
  } else {
    WARN("../shared/data/camvid not found: synthetic scenes instead");
    for (uint64_t seed : {1, 2}) samples.push_back(data::render_street_scene(size, size, seed));
  }
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  std::vector<double> edges, complexity;
  for (const data::Sample& s : samples) {
    images.push_back(
        reshape(data::to_tensor(s.image, data::Normalization::ImageNet), {1, 3, size, size}));
    for (int16_t v : s.label.values) labels.push_back(v);
    for (int16_t v : data::boundary_map(s.label).values) edges.push_back(v);
    // A stand-in complexity map: brighter where labels change (what the IC head must learn).
    for (int16_t v : data::boundary_map(s.label).values) complexity.push_back(v ? 0.8 : 0.2);
  }
  c.images = concat(images, 0);
  c.labels = Tensor::from_vector(labels, {2, size, size});
  c.edges = Tensor::from_doubles(edges, {2, 1, size, size});
  c.complexity = Tensor::from_doubles(complexity, {2, 1, size, size});
  return c;
}

}  // namespace

TEST_CASE("PIDNet-S overfits two crops with its full loss on the CPU", "[pidnet][training]") {
  const Crops d = make_crops(64);
  PidNetConfig cfg;
  cfg.num_classes = d.classes;
  cfg.training_graph = true;
  cfg.seed = 4;
  PidNet net(cfg);
  net.train();
  SGD opt(net.parameters(), SgdHyper{0.01, 0.9, 0.0, 0.0, false});
  PidnetLossOptions lo;
  lo.ohem_min_kept = 1000;
  double first = 0, last = 0;
  for (int it = 0; it < 30; ++it) {
    opt.zero_grad();
    Tensor loss = pidnet_loss(net.forward_heads(d.images).list(), d.labels, d.edges, lo).total;
    last = loss.item();
    if (it == 0) first = last;
    REQUIRE(std::isfinite(last));
    loss.backward();
    opt.step();
  }
  INFO("loss " << first << " -> " << last);
  REQUIRE(last < first / 3);
}

TEST_CASE("ICFRNet overfits two crops with segmentation + IC losses on the CPU",
          "[icfrnet][training]") {
  const Crops d = make_crops(64);
  IcfrNetConfig cfg;
  cfg.pidnet.num_classes = d.classes;
  cfg.pidnet.training_graph = true;
  cfg.pidnet.seed = 5;
  IcfrNet net(cfg);
  net.train();
  SGD opt(net.parameters(), SgdHyper{0.01, 0.9, 0.0, 0.0, false});
  IcfrnetLossOptions lo;
  lo.segmentation.ohem_min_kept = 1000;
  double first = 0, last = 0;
  for (int it = 0; it < 30; ++it) {
    opt.zero_grad();
    const IcfrNetOutputs out = net.forward_outputs(d.images);
    Tensor loss =
        icfrnet_loss(out.heads.list(), out.ic_logits, d.labels, d.edges, d.complexity, lo).total;
    last = loss.item();
    if (it == 0) first = last;
    REQUIRE(std::isfinite(last));
    loss.backward();
    opt.step();
  }
  INFO("loss " << first << " -> " << last);
  REQUIRE(last < first / 3);
}

TEST_CASE("the whole PIDNet-S passes a finite-difference check in float64", "[pidnet][grad]") {
  // Eval mode (see the CIFReNet counterpart for why); one sampled element of every third
  // parameter tensor and of the input. Training-mode exactness: the fp64 PyTorch parity test.
  PidNetConfig cfg;
  cfg.num_classes = 4;
  cfg.training_graph = true;
  PidNet net(cfg);
  net.to(DType::F64);
  net.eval();
  Generator gen(9);
  Tensor x = random_input({1, 3, 24, 32}, gen);
  std::vector<Tensor> inputs;
  const std::vector<Tensor> params = net.parameters();
  for (size_t i = 0; i < params.size(); i += 3) inputs.push_back(params[i]);
  inputs.push_back(x);
  GradCheckOptions opt;
  opt.max_elements_per_input = 1;
  opt.tolerance = 1e-5;
  gradcheck(
      [&](const std::vector<Tensor>& t) {
        const PidNetHeads h = net.forward_heads(t.back());
        return concat({reshape(h.aux_p, {-1}), reshape(h.main, {-1}), reshape(h.boundary, {-1})},
                      0);
      },
      inputs, opt);
}
