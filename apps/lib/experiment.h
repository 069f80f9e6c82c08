// The experiment configuration of `rtseg train/eval/predict`: the schema of every key (with its
// default and help), and the typed, validated view the trainer and evaluator read. Values are
// checked for their type when read from YAML (config.h) and for their meaning here — but only
// the parts a command uses: a recipe that names a net not built yet can still be summarised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/lib/config.h"
#include "optim/sgd.h"

namespace rtseg::app {

// The schema of `rtseg train` configs (README "Using rtseg" and configs/*.yaml use it).
const std::vector<KeySpec>& experiment_schema();

// Every key at its default; then `path` (if not empty) and the KEY=VALUE overrides in order.
Config load_experiment_config(const std::string& path, const std::vector<std::string>& overrides);

// The typed view of a config. Members start zeroed: the defaults are the schema's, and one table
// in experiment.cpp binds each key to its member (name, default, help, range), so a new setting
// is one row there and one member here.
struct ModelSettings {
  std::string name;        // registry name (nets/registry.h)
  int64_t classes{};       // 0: the dataset's
  std::string variant;     // NetOptions::dataset: dataset-specific structure (CIFReNet's dilations)
  std::string weights;     // safetensors to start from, loaded by name ("" = none)
  bool weights_partial{};  // load what fits of `weights` instead of requiring all of it
};

struct DataSettings {
  std::string dataset;  // synthetic, camvid, camvid960, cityscapes, helen, list
  std::string root;
  std::string train_split, val_split;
  std::string class_file, label_format, remap_file;  // list datasets
  int64_t ignore_index{};                            // list datasets
  int64_t synthetic_train_samples{}, synthetic_val_samples{};
  std::vector<int64_t> synthetic_size;  // [h, w]
  std::vector<int64_t> train_resize;    // [h, w] or empty
  std::string augment;                  // none, flip, cifrenet, pidnet
  std::vector<int64_t> crop;            // [h, w] or empty
  int64_t base_size{};                  // pidnet multi-scale: long side at scale 1
  int64_t boundary_frame{};             // pidnet edge maps: cleared border (Cityscapes 6)
  int64_t rotate_label_fill{};          // cifrenet rotation: label of the empty corners
  std::vector<int64_t> eval_size;       // [h, w] or empty (native)
  std::string normalization;            // imagenet, cifrenet_bgr, unit
  int64_t workers{};
};

struct TrainSettings {
  std::string device;  // auto, cpu, cuda, cuda:N
  int64_t batch_size{};
  int64_t iterations{}, epochs{}, schedule_epochs{};
  SgdHyper sgd;  // train.lr, train.momentum, train.weight_decay, train.nesterov
  double poly_power{};
  int64_t warmup_iters{};
  double warmup_ratio{};
  std::string loss;          // registered loss name (losses.h)
  std::string ce_reduction;  // mean (PyTorch's weighted mean) or all_pixels (Σ w·nll / #pixels)
  std::vector<double> class_weights;
  double class_weight_prob{};
  double ohem_thresh{};
  int64_t ohem_keep{};
  std::string complexity_source;  // icfrnet: teacher, precomputed or proxy
  std::string complexity_dir, teacher_weights;
  int64_t seed{};
  int64_t log_interval{}, val_interval{}, checkpoint_interval{};
};

struct EvalSettings {
  int64_t batch_size{};
  bool flip{};
  int64_t max_samples{};
};

struct Experiment {
  ModelSettings model;
  DataSettings data;
  TrainSettings train;
  EvalSettings eval;
  std::string output_dir;
};

// The typed view with every value checked for its meaning (sizes positive, names known, ...).
// `config_path` gives the default output folder runs/<config stem>.
Experiment read_experiment(const Config& config, const std::string& config_path = "");

// "HxW" text of a [h, w] setting, "native" when empty.
std::string size_text(const std::vector<int64_t>& hw);

}  // namespace rtseg::app
