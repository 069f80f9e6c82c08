#include "nets/registry.h"

#include "nets/cifrenet.h"

namespace rtseg {

const std::vector<NetInfo>& registered_nets() {
  static const std::vector<NetInfo> nets = {
      {"cifrenet", "CIFReNet (MobileNetV2 OS8 + LRM + MCIM), TIP 2020",
       [](const NetOptions& o) {
         RTSEG_CHECK(o.graph == "infer" || o.graph == "train",
                     "cifrenet: graph must be 'infer' or 'train', got '{}'", o.graph);
         CifreNetConfig c;
         c.num_classes = o.num_classes;
         c.dsp_dilations = CifreNetConfig::dilations_for(o.dataset);
         c.seed = o.seed;
         return std::static_pointer_cast<Module>(std::make_shared<CifreNet>(c));
       }},
  };
  return nets;
}

std::shared_ptr<Module> create_net(const std::string& name, const NetOptions& options) {
  std::string known;
  for (const NetInfo& n : registered_nets()) {
    if (n.name == name) return n.create(options);
    known += (known.empty() ? "" : ", ") + n.name;
  }
  fail("unknown net '{}' (known: {})", name, known);
}

}  // namespace rtseg
