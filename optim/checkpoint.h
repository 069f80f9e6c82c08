// Training checkpoints: everything needed to resume bit-identically — the model's state_dict, the
// optimizer's momentum buffers (by parameter name), its step count and current learning rates,
// the epoch/iteration position, the best metric so far, named random generators (data order,
// augmentation, dropout) and the config text — in one safetensors file written atomically.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "layers/module.h"
#include "optim/sgd.h"

namespace rtseg {

struct TrainingPosition {
  int64_t epoch = 0;
  int64_t iteration = 0;
  double best_metric = 0.0;
  std::string config;  // the resolved configuration the run was started with
};

using NamedGenerators = std::vector<std::pair<std::string, Generator*>>;

// The file's layout: metadata "format" is kCheckpointFormat; the model's tensors are named
// kCheckpointModelPrefix + state_dict key, the momentum buffers kCheckpointMomentumPrefix + name.
constexpr const char* kCheckpointFormat = "rtseg-training-checkpoint-1";
constexpr const char* kCheckpointModelPrefix = "model/";
constexpr const char* kCheckpointMomentumPrefix = "optimizer/momentum/";

class SafetensorsFile;
// Whether `file` is a training checkpoint (otherwise: plain weights).
bool is_training_checkpoint(const SafetensorsFile& file);

// The generators the model's modules registered (Module::named_generators: Dropout's, today).
NamedGenerators model_generators(Module& model);

void save_checkpoint(const std::string& path, const Module& model, const SGD& optimizer,
                     const TrainingPosition& position, const NamedGenerators& generators);

// Restores into existing objects built the same way. All names and shapes are validated before
// anything is changed; any mismatch is an Error naming the file.
TrainingPosition load_checkpoint(const std::string& path, Module& model, SGD& optimizer,
                                 const NamedGenerators& generators);

}  // namespace rtseg
