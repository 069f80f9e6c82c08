#include "nets/registry.h"

#include "nets/cifrenet.h"
#include "nets/icfrnet.h"
#include "nets/pidnet.h"

namespace rtseg {

namespace {

bool training_graph(const std::string& net, const NetOptions& o) {
  RTSEG_CHECK(o.graph == "infer" || o.graph == "train",
              "{}: graph must be 'infer' or 'train', got '{}'", net, o.graph);
  return o.graph == "train";
}

PidNetConfig pidnet_s(const std::string& net, const NetOptions& o) {
  PidNetConfig c;  // the defaults are variant S
  c.num_classes = o.num_classes;
  c.training_graph = training_graph(net, o);
  c.seed = o.seed;
  return c;
}

}  // namespace

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
       },
       1, true, 8},
      {"pidnet-s",
       "PIDNet-S (P/I/D branches, PAPPM, Light-Bag), CVPR 2023; train graph adds the P-aux and "
       "boundary heads",
       [](const NetOptions& o) {
         return std::static_pointer_cast<Module>(std::make_shared<PidNet>(pidnet_s("pidnet-s", o)));
       },
       8, true, 32},
      {"icfrnet",
       "ICFRNet (PIDNet-S + IC branch, IC head, ICGA on P5/D5; variant A of docs/icfrnet.md), "
       "2024",
       [](const NetOptions& o) {
         IcfrNetConfig c;
         c.pidnet = pidnet_s("icfrnet", o);
         return std::static_pointer_cast<Module>(std::make_shared<IcfrNet>(c));
       },
       8, true, 32},
  };
  return nets;
}

const NetInfo& net_info(const std::string& name) {
  std::string known;
  for (const NetInfo& n : registered_nets()) {
    if (n.name == name) return n;
    known += (known.empty() ? "" : ", ") + n.name;
  }
  fail("unknown net '{}' (known: {})", name, known);
}

std::shared_ptr<Module> create_net(const std::string& name, const NetOptions& options) {
  return net_info(name).create(options);
}

}  // namespace rtseg
