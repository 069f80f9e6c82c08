#include "nets/cifrenet_backbone.h"

#include <map>
#include <set>

#include "core/autograd.h"
#include "core/safetensors.h"

namespace rtseg {

namespace {

const char* kBnFields[] = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"};

// CIFReNet's inverted-residual children: conv 0, BN 1, dw 3, BN 4, pw 6, BN 7. In torchvision
// the same layers sit at 0.0, 0.1, 1.0, 1.1, 2, 3 (or, for the t = 1 block without expansion,
// dw 0.0, BN 0.1, pw 1, BN 2).
void map_block(std::vector<std::pair<std::string, std::string>>& out, const std::string& ours,
               const std::string& theirs, BackboneSource source, bool expansion_one) {
  struct Layer {
    int index;
    bool bn;
    const char* torchvision;
    const char* torchvision_t1;  // nullptr: absent in torchvision's t = 1 block
  };
  const Layer layers[] = {{0, false, "0.0", nullptr}, {1, true, "0.1", nullptr},
                          {3, false, "1.0", "0.0"},   {4, true, "1.1", "0.1"},
                          {6, false, "2", "1"},       {7, true, "3", "2"}};
  for (const Layer& l : layers) {
    std::string src;
    if (source == BackboneSource::LightNet) {
      src = theirs + ".conv." + std::to_string(l.index);
    } else {
      const char* t = expansion_one ? l.torchvision_t1 : l.torchvision;
      if (!t) continue;
      src = theirs + ".conv." + t;
    }
    const std::string dst = ours + ".conv." + std::to_string(l.index);
    if (l.bn) {
      for (const char* f : kBnFields) out.emplace_back(dst + "." + f, src + "." + f);
    } else {
      out.emplace_back(dst + ".weight", src + ".weight");
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> cifrenet_backbone_key_map(BackboneSource source) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("mod1.0.weight", "features.0.0.weight");
  for (const char* f : kBnFields)
    out.emplace_back(std::string("mod1.1.") + f, std::string("features.0.1.") + f);
  map_block(out, "mod2", "features.1", source, true);
  // Stages mod3…mod7 with their block counts; features are numbered on from 2; mod8 is one block.
  const std::pair<const char*, int> stages[] = {
      {"mod3", 2}, {"mod4", 3}, {"mod5", 4}, {"mod6", 3}, {"mod7", 3}};
  int feature = 2;
  for (const auto& [stage, blocks] : stages) {
    for (int b = 0; b < blocks; ++b, ++feature) {
      map_block(out, std::string(stage) + "." + std::to_string(b),
                "features." + std::to_string(feature), source, false);
    }
  }
  map_block(out, "mod8", "features." + std::to_string(feature), source, false);
  return out;
}

LoadReport load_cifrenet_backbone(CifreNet& net, const std::string& path, BackboneSource source) {
  SafetensorsFile file = SafetensorsFile::read(path);
  std::map<std::string, std::string> stripped;  // stripped source key -> key in the file
  for (const std::string& name : file.names()) stripped[strip_wrapper_prefixes(name)] = name;
  std::map<std::string, Tensor> ours;
  for (const auto& [k, t] : net.state_dict()) ours[k] = t;

  LoadReport report;
  std::vector<std::pair<Tensor, Tensor>> copies;
  std::set<std::string> used;
  for (const auto& [dst, src] : cifrenet_backbone_key_map(source)) {
    auto it = stripped.find(src);
    if (it == stripped.end()) {
      (src.size() >= 19 && src.compare(src.size() - 19, 19, "num_batches_tracked") == 0
           ? report.absent_optional
           : report.missing)
          .push_back(dst + " <- " + src);
      continue;
    }
    used.insert(src);
    Tensor value = file.tensor(it->second);
    const Tensor& target = ours.at(dst);
    if (value.shape() != target.shape()) {
      report.mismatched.push_back(fmt::format("{} <- {}: model {} vs source {}", dst, src,
                                              shape_str(target.shape()), shape_str(value.shape())));
      continue;
    }
    report.loaded.push_back(dst);
    copies.emplace_back(target, value);
  }
  for (const auto& [k, name] : stripped) {
    if (!used.count(k)) report.unexpected.push_back(k);
  }
  if (!report.missing.empty() || !report.mismatched.empty()) {
    fail("{}: not a {} MobileNetV2 for CIFReNet's backbone: {}", path,
         source == BackboneSource::LightNet ? "LightNet" : "torchvision", report.summary());
  }
  autograd::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_from(src.to(dst.dtype()).to(dst.device()));
  if (source == BackboneSource::Torchvision) {
    // torchvision's first block has no expansion conv: make mod2.conv.0 → BN an identity. The
    // stem's output is already ReLU6'd, so the ReLU6 that follows is an identity too.
    Tensor w = ours.at("mod2.conv.0.weight");
    const int64_t c = w.size(0);
    std::vector<double> eye(static_cast<size_t>(c * c), 0.0);
    for (int64_t i = 0; i < c; ++i) eye[static_cast<size_t>(i * c + i)] = 1.0;
    w.copy_from(Tensor::from_doubles(eye, w.shape(), w.dtype(), w.device()));
    ours.at("mod2.conv.1.weight").fill(1.0);
    ours.at("mod2.conv.1.bias").fill(0.0);
    ours.at("mod2.conv.1.running_mean").fill(0.0);
    ours.at("mod2.conv.1.running_var").fill(1.0 - 1e-5);  // (x − 0)/√(var + ε) = x exactly
  }
  return report;
}

}  // namespace rtseg
