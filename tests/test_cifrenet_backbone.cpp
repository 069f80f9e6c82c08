// ImageNet MobileNetV2 into CIFReNet's backbone: the key map equals the reference table, and a
// torchvision-layout file loads with the identity expansion conv in the t = 1 block.
#include <fstream>
#include <sstream>

#include "core/safetensors.h"
#include "nets/cifrenet_backbone.h"
#include "nets/mobilenetv2.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("the backbone key maps equal tests/data/keys/cifrenet_19_backbone_key_map.tsv",
          "[cifrenet][backbone]") {
  std::ifstream in(std::string(RTSEG_SOURCE_DIR) +
                   "/tests/data/keys/cifrenet_19_backbone_key_map.tsv");
  REQUIRE(in.good());
  std::vector<std::pair<std::string, std::string>> lightnet, torchvision;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string ours, ln, tv;
    std::getline(f, ours, '\t');
    std::getline(f, ln, '\t');
    std::getline(f, tv, '\t');
    if (ln != "-") lightnet.emplace_back(ours, ln);
    if (tv != "-") torchvision.emplace_back(ours, tv);
  }
  REQUIRE(cifrenet_backbone_key_map(BackboneSource::LightNet) == lightnet);
  REQUIRE(cifrenet_backbone_key_map(BackboneSource::Torchvision) == torchvision);
}

TEST_CASE("a torchvision MobileNetV2 loads into the backbone; mod2's expansion starts as identity",
          "[cifrenet][backbone]") {
  CifreNet net(CifreNetConfig{});
  std::map<std::string, Tensor> ours;
  for (const auto& [k, t] : net.state_dict()) ours[k] = t;
  Generator gen(1);
  std::vector<std::pair<std::string, Tensor>> file;
  for (const auto& [dst, src] : cifrenet_backbone_key_map(BackboneSource::Torchvision)) {
    const Tensor& t = ours.at(dst);
    file.emplace_back("module." + src, t.dtype() == DType::I64
                                           ? Tensor::full({}, 7, DType::I64)
                                           : rand_uniform(t.shape(), 0.1, 1, gen));
  }
  file.emplace_back("classifier.1.weight", Tensor::zeros({1000, 1280}));
  const std::string path = "rtseg_test_torchvision_mbv2.safetensors";
  write_safetensors(path, file);
  LoadReport r = load_cifrenet_backbone(net, path, BackboneSource::Torchvision);
  REQUIRE(r.unexpected == std::vector<std::string>{"classifier.1.weight"});
  REQUIRE(r.loaded.size() == file.size() - 1);
  REQUIRE(ours.at("mod3.0.conv.3.weight").to_doubles() ==
          file[2 * 6 + 6 + 6].second.to_doubles());  // features.2.conv.1.0
  // mod2.conv.0 → conv.1 is an identity in eval mode.
  net.eval();
  Tensor x = rand_uniform({1, 32, 5, 5}, 0, 6, gen);
  Sequential& block = *std::dynamic_pointer_cast<InvertedResidual>(net.mod2)->conv;
  require_close(block[1].forward(block[0].forward(x)), x, 1e-6, 1e-6);
  // A file that lacks backbone tensors is refused without changing the net.
  const std::vector<double> before = ours.at("mod1.0.weight").to_doubles();
  write_safetensors(path, {{"features.0.0.weight", Tensor::zeros({32, 3, 3, 3})}});
  require_error([&] { load_cifrenet_backbone(net, path, BackboneSource::LightNet); },
                "not a LightNet MobileNetV2");
  REQUIRE(ours.at("mod1.0.weight").to_doubles() == before);
  std::remove(path.c_str());
}
