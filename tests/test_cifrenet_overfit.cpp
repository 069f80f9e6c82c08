// CIFReNet learns on the CPU: SGD on two small CamVid crops (../shared/data/camvid; synthetic
// street scenes when it is absent) must lower the training loss by a large factor.
#include "data/camvid.h"
#include "data/geometry.h"
#include "data/photometric.h"
#include "data/synthetic.h"
#include "nets/cifrenet.h"
#include "optim/sgd.h"
#include "test_data_fixtures.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("CIFReNet overfits two crops with SGD on the CPU", "[cifrenet][training]") {
  const int size = 48;
  std::vector<data::Sample> samples;
  int classes = 19;
  if (camvid_available()) {
    auto camvid = data::camvid_segnet(camvid_root(), "train");
    classes = camvid->num_classes();
    for (size_t i : {0, 120}) {
      data::Sample s = camvid->get(i);
      data::crop_sample(s, 200, 180, size, size);  // road, cars and buildings meet here
      samples.push_back(s);
    }
  } else {
    WARN("../shared/data/camvid not found: overfitting synthetic scenes instead");
    for (uint64_t seed : {1, 2}) samples.push_back(data::render_street_scene(size, size, seed));
  }
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  for (const data::Sample& s : samples) {
    images.push_back(
        reshape(data::to_tensor(s.image, data::Normalization::ImageNet), {1, 3, size, size}));
    for (int16_t v : s.label.values) labels.push_back(v);
  }
  Tensor x = concat(images, 0);
  Tensor y = Tensor::from_vector(labels, {2, size, size});

  CifreNetConfig c;
  c.num_classes = classes;
  c.dropout = 0.0;
  c.seed = 3;
  CifreNet net(c);
  net.train();
  SGD opt(net.parameters(), SgdHyper{0.05, 0.9, 0.0, 0.0, true});
  double first = 0, last = 0;
  for (int it = 0; it < 30; ++it) {
    opt.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    last = loss.item();
    if (it == 0) first = last;
    REQUIRE(std::isfinite(last));
    loss.backward();
    opt.step();
  }
  INFO("loss " << first << " -> " << last);
  REQUIRE(last < first / 5);
}
