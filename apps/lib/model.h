// Nets for the commands: built from a config through the registry, placed on the chosen device,
// and loaded from either plain safetensors weights or an rtseg training checkpoint (whose model
// tensors carry the "model/" prefix and whose metadata holds the run's resolved config).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/lib/config.h"
#include "apps/lib/experiment.h"
#include "core/device.h"
#include "layers/fuse_activation.h"
#include "layers/module.h"
#include "layers/state_dict.h"

namespace rtseg::app {

// "auto": the first GPU when one can be used, else the CPU; "cpu"; "cuda" / "cuda:N" (an Error
// saying why when no GPU can be used).
Device choose_device(const std::string& request);

// The configured net with `classes` outputs on the CPU; graph "train" or "infer".
std::shared_ptr<Module> build_net(const ModelSettings& m, int64_t classes, const std::string& graph,
                                  uint64_t seed);

// Loads weights by name (wrapper prefixes stripped). Non-strict loads what fits and reports the
// rest; strict refuses any missing, unexpected or mismatched key with an Error naming the file,
// leaving the net untouched.
LoadReport load_weights(Module& net, const std::string& path, bool strict);

// The config text stored in a training checkpoint, or nothing for plain weights. An unreadable
// or malformed file is an Error naming it.
std::optional<std::string> checkpoint_config(const std::string& path);

// Loads weights for inference: every tensor of the net must be in the file with its shape (an
// Error naming the file and the first offender otherwise); extra tensors (a training graph's
// auxiliary heads) are ignored and counted in the report.
LoadReport load_inference_weights(Module& net, const std::string& path);

// Puts a net loaded for inference (predict, eval) in eval mode and rewrites it for speed:
// BatchNorm folded into the convs, activations fused into them (layers/fuse_activation.h).
// Returns the rewrite's report; the outputs agree with the unrewritten net to rounding.
InferenceReport prepare_inference_net(Module& net);

// The configuration of a command that runs saved weights: `config_path` when given, else the
// config stored in the training checkpoint `weights_path`; then the overrides.
Config config_for_weights(const std::string& config_path, const std::string& weights_path,
                          const std::vector<std::string>& overrides);

// Whether every floating parameter and buffer of the net is finite.
bool all_finite(const Module& net);

}  // namespace rtseg::app
