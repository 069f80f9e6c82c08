// Nets by name, for the apps: `rtseg train --net cifrenet ...`. Every entry builds a Module whose
// forward(x) gives the main logits at 1/output_stride of the input (CIFReNet: the input size;
// PIDNet and ICFRNet: 1/8, which callers resize to the label size bilinearly with the entry's
// align_corners). NetOptions.graph picks the inference or the training graph; the training
// graph's other heads come from the net's own API (PidNet::forward_heads,
// IcfrNet::forward_outputs).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct NetOptions {
  int64_t num_classes = 19;
  // Picks dataset-specific structure (CIFReNet's DSP dilations).
  std::string dataset = "cityscapes";
  // "infer" or "train" (auxiliary heads, where a net has them).
  std::string graph = "infer";
  uint64_t seed = 0;
};

struct NetInfo {
  std::string name;
  std::string description;
  std::function<std::shared_ptr<Module>(const NetOptions&)> create;
  int64_t output_stride = 1;  // forward(x) is at ⌈input / output_stride⌉ (strided convs round up)
  bool align_corners = true;  // for resizing the logits to the label size
  // Stride of the net's deepest stack of BatchNorm layers (CIFReNet 8, PIDNet's layer 4 at 32).
  // Training with fewer than kMinBatchNormValues values per channel there (batch × ⌈H/s⌉ ×
  // ⌈W/s⌉) degenerates their statistics: two values normalise to ±1, and where they nearly
  // agree the gradient is 1/√eps per layer, which explodes through the stack (measured on
  // CIFReNet at 8×8 in batches of 2 and 4, PIDNet-S at 32×32 in batches of 2).
  int64_t deepest_batch_norm_stride = 1;
};

constexpr int64_t kMinBatchNormValues = 8;

// The registered entry called `name` (an Error listing the known ones otherwise).
const NetInfo& net_info(const std::string& name);

const std::vector<NetInfo>& registered_nets();
// The net called `name`; an unknown name is an Error that lists the known ones.
std::shared_ptr<Module> create_net(const std::string& name, const NetOptions& options);

}  // namespace rtseg
