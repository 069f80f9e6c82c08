// Nets by name, for the apps: `rtseg train --net cifrenet ...`. Every entry builds a Module whose
// forward(x) gives logits at the input resolution, and says how to get the other graphs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct NetOptions {
  int64_t num_classes = 19;
  std::string dataset = "cityscapes";  // picks dataset-specific structure (CIFReNet's DSP dilations)
  std::string graph = "infer";         // "infer" or "train" (auxiliary heads, where a net has them)
  uint64_t seed = 0;
};

struct NetInfo {
  std::string name;
  std::string description;
  std::function<std::shared_ptr<Module>(const NetOptions&)> create;
};

const std::vector<NetInfo>& registered_nets();
// The net called `name`; an unknown name is an Error that lists the known ones.
std::shared_ptr<Module> create_net(const std::string& name, const NetOptions& options);

}  // namespace rtseg
