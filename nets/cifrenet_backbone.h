// ImageNet MobileNetV2 weights into CIFReNet's backbone (mod1…mod8) by a key map: from the
// authors' standalone backbone (LightNet's `features.N.conv.K`, same layout as CIFReNet) or from
// torchvision's mobilenet_v2 (`features.N.conv.0.0` …, whose t = 1 block lacks the expansion
// conv: CIFReNet's mod2.conv.0/1 then start as an identity). The map reproduces
// tests/data/keys/cifrenet_19_backbone_key_map.tsv.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers/state_dict.h"
#include "nets/cifrenet.h"

namespace rtseg {

enum class BackboneSource { LightNet, Torchvision };

// (CIFReNet key, source key) for every backbone tensor the source provides, in state_dict order.
std::vector<std::pair<std::string, std::string>> cifrenet_backbone_key_map(BackboneSource source);

// Loads a safetensors file (e.g. made by tools/convert_checkpoint.py) into the backbone. Every
// mapped key must be present with the right shape (else an Error and nothing changes); the
// source's other keys (its classifier, the 1280-channel conv) are reported as unexpected and
// ignored. The report's `loaded` lists CIFReNet keys.
LoadReport load_cifrenet_backbone(CifreNet& net, const std::string& path, BackboneSource source);

}  // namespace rtseg
