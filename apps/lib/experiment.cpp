#include "apps/lib/experiment.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <type_traits>
#include <utility>

#include "kernels/error.h"

namespace rtseg::app {

namespace {

using K = ValueKind;

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (v == o) return true;
  }
  return false;
}

std::string joined(std::initializer_list<const char*> options) {
  std::string out;
  for (const char* o : options) out += (out.empty() ? "" : ", ") + std::string(o);
  return out;
}

void check_choice(const std::string& key, const std::string& v,
                  std::initializer_list<const char*> options) {
  RTSEG_CHECK(one_of(v, options), "config: {} must be one of {}, got '{}'", key, joined(options),
              v);
}

void check_size(const std::string& key, const std::vector<int64_t>& v, bool may_be_empty) {
  if (v.empty() && may_be_empty) return;
  RTSEG_CHECK(v.size() == 2 && v[0] >= 1 && v[1] >= 1,
              "config: {} must be [height, width] with positive sizes{}", key,
              may_be_empty ? " (or [] for none)" : "");
}

template <typename T>
constexpr ValueKind kind_of() {
  if constexpr (std::is_same_v<T, int64_t>) return K::Int;
  if constexpr (std::is_same_v<T, double>) return K::Float;
  if constexpr (std::is_same_v<T, bool>) return K::Bool;
  if constexpr (std::is_same_v<T, std::string>) return K::String;
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return K::IntList;
  if constexpr (std::is_same_v<T, std::vector<double>>) return K::FloatList;
}

template <typename T>
T value_of(const Config& c, const std::string& key) {
  if constexpr (std::is_same_v<T, int64_t>) return c.get_int(key);
  if constexpr (std::is_same_v<T, double>) return c.get_float(key);
  if constexpr (std::is_same_v<T, bool>) return c.get_bool(key);
  if constexpr (std::is_same_v<T, std::string>) return c.get_string(key);
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return c.get_ints(key);
  if constexpr (std::is_same_v<T, std::vector<double>>) return c.get_floats(key);
}

struct Setting {
  KeySpec spec;
  std::function<void(const Config&, Experiment&)> read;  // the key's value into its member
};

template <typename Member>
Setting setting(const char* key, Member member, const char* default_value, const char* help,
                const char* range = "") {
  using T = std::remove_reference_t<decltype(member(std::declval<Experiment&>()))>;
  return {KeySpec{key, kind_of<T>(), default_value, help, range},
          [member, k = std::string(key)](const Config& c, Experiment& e) {
            member(e) = value_of<T>(c, k);
          }};
}

// One row per key: its name, the Experiment member it fills (its type gives the key's kind), its
// default, help and range. The schema, the defaults, the typed view and `--keys` all come from it.
#define RTSEG_SETTING(key, path, ...) \
  setting(                            \
      key, [](Experiment & e) -> auto& { return e.path; }, __VA_ARGS__)

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      RTSEG_SETTING("model.name", model.name, "cifrenet",
                    "net name (rtseg summary --help lists them)"),
      RTSEG_SETTING("model.classes", model.classes, "0", "number of classes; 0: the dataset's",
                    "[0, 65535]"),
      RTSEG_SETTING("model.variant", model.variant, "''",
                    "dataset-specific structure (CIFReNet's DSP dilations): cityscapes, camvid or "
                    "helen; empty: data.dataset where it is one of those, else cityscapes"),
      RTSEG_SETTING(
          "model.weights", model.weights, "''",
          "safetensors weights to start from (loaded by name, with a report); empty: from scratch"),
      RTSEG_SETTING("model.weights_partial", model.weights_partial, "false",
                    "load only the tensors of model.weights that fit (e.g. ImageNet backbone "
                    "weights); false: they must fit the net exactly"),
      RTSEG_SETTING(
          "data.dataset", data.dataset, "synthetic",
          "synthetic, camvid (SegNet 480x360), camvid960 (colour labels), cityscapes, helen, list"),
      RTSEG_SETTING("data.root", data.root, "''", "dataset folder"),
      RTSEG_SETTING("data.train_split", data.train_split, "train",
                    "split (or list file, for camvid and list) to train on"),
      RTSEG_SETTING("data.val_split", data.val_split, "val", "split (or list file) to validate on"),
      RTSEG_SETTING("data.class_file", data.class_file, "''",
                    "list datasets: `name R G B` per class"),
      RTSEG_SETTING("data.label_format", data.label_format, "index",
                    "list datasets: index (gray PNG) or colour"),
      RTSEG_SETTING("data.remap_file", data.remap_file, "''",
                    "list datasets: `from to` label value pairs"),
      RTSEG_SETTING("data.ignore_index", data.ignore_index, "255",
                    "list datasets: the ignored label value", "[0, 32767]"),
      RTSEG_SETTING("data.synthetic_train_samples", data.synthetic_train_samples, "200",
                    "synthetic: training scenes", "[1, inf)"),
      RTSEG_SETTING("data.synthetic_val_samples", data.synthetic_val_samples, "20",
                    "synthetic: validation scenes", "[1, inf)"),
      RTSEG_SETTING("data.synthetic_size", data.synthetic_size, "[128, 256]",
                    "synthetic: scene size [h, w]", "[1, 16384]"),
      RTSEG_SETTING(
          "data.train_resize", data.train_resize, "[]",
          "resize training samples to [h, w] before augmentation (e.g. CamVid to 720x960); []: no",
          "[1, 16384]"),
      RTSEG_SETTING("data.augment", data.augment, "flip",
                    "none, flip, cifrenet (flip, scale 0.5-1.5, rotate, colour, crop) or pidnet "
                    "(edges, multi-scale, crop, flip)"),
      RTSEG_SETTING("data.crop", data.crop, "[]", "training crop [h, w]; []: none (flip/none only)",
                    "[1, 16384]"),
      RTSEG_SETTING("data.base_size", data.base_size, "0",
                    "pidnet: long side at scale 1 (Cityscapes 2048, CamVid 960)", "[0, 16384]"),
      RTSEG_SETTING("data.boundary_frame", data.boundary_frame, "0",
                    "pidnet: border cleared in edge maps (Cityscapes 6)", "[0, 65535]"),
      RTSEG_SETTING(
          "data.rotate_label_fill", data.rotate_label_fill, "255",
          "cifrenet: label of corners emptied by rotation (the authors' code effectively uses 0)",
          "[0, 32767]"),
      RTSEG_SETTING("data.eval_size", data.eval_size, "[]",
                    "resize for evaluation [h, w] (labels nearest); []: native", "[1, 16384]"),
      RTSEG_SETTING("data.normalization", data.normalization, "imagenet",
                    "imagenet, cifrenet_bgr or unit"),
      RTSEG_SETTING("data.workers", data.workers, "2",
                    "loader threads (0: load in the main thread)", "[0, 256]"),
      RTSEG_SETTING("train.device", train.device, "auto",
                    "auto (GPU when present), cpu, cuda or cuda:N"),
      RTSEG_SETTING("train.batch_size", train.batch_size, "4", "images per iteration", "[1, inf)"),
      RTSEG_SETTING("train.iterations", train.iterations, "0",
                    "iterations to train; 0: train.epochs epochs", "[0, inf)"),
      RTSEG_SETTING("train.epochs", train.epochs, "0", "epochs to train when train.iterations is 0",
                    "[0, inf)"),
      RTSEG_SETTING("train.schedule_epochs", train.schedule_epochs, "0",
                    "epochs the poly schedule spans (PIDNet's END_EPOCH); 0: the length of the run",
                    "[0, inf)"),
      RTSEG_SETTING("train.lr", train.sgd.lr, "0.01", "base learning rate", "(0, inf)"),
      RTSEG_SETTING("train.momentum", train.sgd.momentum, "0.9", "SGD momentum", "[0, 1)"),
      RTSEG_SETTING("train.nesterov", train.sgd.nesterov, "false", "Nesterov momentum"),
      RTSEG_SETTING("train.weight_decay", train.sgd.weight_decay, "0.0005", "L2 weight decay",
                    "[0, inf)"),
      RTSEG_SETTING("train.poly_power", train.poly_power, "0.9", "poly schedule power", "[0, inf)"),
      RTSEG_SETTING("train.warmup_iters", train.warmup_iters, "0", "linear warm-up iterations",
                    "[0, inf)"),
      RTSEG_SETTING("train.warmup_ratio", train.warmup_ratio, "0.1",
                    "warm-up starts at this fraction of the LR", "[0, 1]"),
      RTSEG_SETTING("train.loss", train.loss, "ce",
                    "ce, ohem (rtseg train --help lists the registered losses)"),
      RTSEG_SETTING(
          "train.ce_reduction", train.ce_reduction, "mean",
          "mean (Σ w·nll / Σ w, PyTorch) or all_pixels (Σ w·nll / all pixels, CIFReNet's code)"),
      RTSEG_SETTING("train.class_weights", train.class_weights, "[]",
                    "per-class loss weights; []: none", "[0, inf)"),
      RTSEG_SETTING("train.class_weight_prob", train.class_weight_prob, "1.0",
                    "probability of applying the class weights in an iteration (CIFReNet: 0.99)",
                    "[0, 1]"),
      RTSEG_SETTING("train.ohem_thresh", train.ohem_thresh, "0.9", "OHEM probability threshold",
                    "[0, 1]"),
      RTSEG_SETTING("train.ohem_keep", train.ohem_keep, "131072", "OHEM minimum kept pixels",
                    "[0, inf)"),
      RTSEG_SETTING("train.complexity_source", train.complexity_source, "teacher",
                    "icfrnet: complexity pseudo-labels from the IC9600 teacher, precomputed PNGs, "
                    "or the analytic proxy (an approximation)"),
      RTSEG_SETTING("train.complexity_dir", train.complexity_dir, "''",
                    "icfrnet, precomputed: folder of <name>.png maps"),
      RTSEG_SETTING(
          "train.teacher_weights", train.teacher_weights, "''",
          "icfrnet, teacher: the IC9600 ICNet weights (ck.pth converted with rtseg convert)"),
      RTSEG_SETTING("train.seed", train.seed, "304",
                    "seed of initialisation, data order and augmentation"),
      RTSEG_SETTING("train.log_interval", train.log_interval, "10",
                    "iterations between log lines and CSV rows", "[1, inf)"),
      RTSEG_SETTING("train.val_interval", train.val_interval, "0",
                    "iterations between validations; 0: once per epoch", "[0, inf)"),
      RTSEG_SETTING("train.checkpoint_interval", train.checkpoint_interval, "0",
                    "iterations between `last` checkpoints; 0: at each validation", "[0, inf)"),
      RTSEG_SETTING("eval.batch_size", eval.batch_size, "1", "images per evaluation batch",
                    "[1, inf)"),
      RTSEG_SETTING("eval.flip", eval.flip, "false",
                    "average the logits of the image and its mirror"),
      RTSEG_SETTING("eval.max_samples", eval.max_samples, "0",
                    "evaluate on the first N samples only; 0: all", "[0, inf)"),
      RTSEG_SETTING("output.dir", output_dir, "''", "run folder; empty: runs/<config file stem>"),
  };
  return table;
}

#undef RTSEG_SETTING

}  // namespace

const std::vector<KeySpec>& experiment_schema() {
  static const std::vector<KeySpec> schema = [] {
    std::vector<KeySpec> specs;
    for (const Setting& s : settings()) specs.push_back(s.spec);
    return specs;
  }();
  return schema;
}

Config load_experiment_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config config(experiment_schema());
  if (!path.empty()) config.merge_yaml_file(path);
  for (const std::string& o : overrides) config.apply_override(o);
  return config;
}

std::string size_text(const std::vector<int64_t>& hw) {
  return hw.size() == 2 ? fmt::format("{}x{}", hw[0], hw[1]) : "native";
}

Experiment read_experiment(const Config& c, const std::string& config_path) {
  Experiment e;
  for (const Setting& s : settings()) s.read(c, e);

  // Meaning beyond each key's type and range: choices, sizes, and keys that depend on others.
  const ModelSettings& m = e.model;
  RTSEG_CHECK(!m.name.empty(), "config: model.name is empty");
  const DataSettings& d = e.data;
  check_choice("data.dataset", d.dataset,
               {"synthetic", "camvid", "camvid960", "cityscapes", "helen", "list"});
  check_choice("data.label_format", d.label_format, {"index", "colour"});
  check_size("data.synthetic_size", d.synthetic_size, false);
  check_size("data.train_resize", d.train_resize, true);
  check_choice("data.augment", d.augment, {"none", "flip", "cifrenet", "pidnet"});
  check_size("data.crop", d.crop, true);
  RTSEG_CHECK(!d.crop.empty() || (d.augment != "cifrenet" && d.augment != "pidnet"),
              "config: data.augment {} needs data.crop [h, w]", d.augment);
  RTSEG_CHECK(d.augment != "pidnet" || d.base_size >= 1,
              "config: data.augment pidnet needs data.base_size (Cityscapes 2048, CamVid 960)");
  check_size("data.eval_size", d.eval_size, true);
  check_choice("data.normalization", d.normalization, {"imagenet", "cifrenet_bgr", "unit"});
  if (e.model.variant.empty()) {
    e.model.variant = d.dataset == "camvid960" ? "camvid" : d.dataset;
    if (!one_of(e.model.variant, {"cityscapes", "camvid", "helen"})) e.model.variant = "cityscapes";
  }

  const TrainSettings& t = e.train;
  RTSEG_CHECK(one_of(t.device, {"auto", "cpu", "cuda"}) || t.device.rfind("cuda:", 0) == 0,
              "config: train.device must be auto, cpu, cuda or cuda:N, got '{}'", t.device);
  RTSEG_CHECK(!t.sgd.nesterov || t.sgd.momentum > 0,
              "config: train.nesterov needs train.momentum > 0");
  check_choice("train.ce_reduction", t.ce_reduction, {"mean", "all_pixels"});
  check_choice("train.complexity_source", t.complexity_source, {"teacher", "precomputed", "proxy"});

  if (e.output_dir.empty()) {
    const std::string stem =
        config_path.empty() ? "default" : std::filesystem::path(config_path).stem().string();
    e.output_dir = (std::filesystem::path("runs") / stem).string();
  }
  return e;
}

}  // namespace rtseg::app
