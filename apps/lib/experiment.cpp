#include "apps/lib/experiment.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"

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

}  // namespace

const std::vector<KeySpec>& experiment_schema() {
  static const std::vector<KeySpec> schema = {
      {"model.name", K::String, "cifrenet", "net name (rtseg summary --help lists them)"},
      {"model.classes", K::Int, "0", "number of classes; 0: the dataset's", "[0, 65535]"},
      {"model.variant", K::String, "''",
       "dataset-specific structure (CIFReNet's DSP dilations): cityscapes, camvid or helen; "
       "empty: data.dataset where it is one of those, else cityscapes"},
      {"model.weights", K::String, "''",
       "safetensors weights to start from (loaded by name, with a "
       "report); empty: from scratch"},
      {"model.weights_partial", K::Bool, "false",
       "load only the tensors of model.weights that fit "
       "(e.g. ImageNet backbone weights); false: they must fit "
       "the net exactly"},
      {"data.dataset", K::String, "synthetic",
       "synthetic, camvid (SegNet 480x360), camvid960 (colour labels), cityscapes, helen, list"},
      {"data.root", K::String, "''", "dataset folder"},
      {"data.train_split", K::String, "train",
       "split (or list file, for camvid and list) to train on"},
      {"data.val_split", K::String, "val", "split (or list file) to validate on"},
      {"data.class_file", K::String, "''", "list datasets: `name R G B` per class"},
      {"data.label_format", K::String, "index", "list datasets: index (gray PNG) or colour"},
      {"data.remap_file", K::String, "''", "list datasets: `from to` label value pairs"},
      {"data.ignore_index", K::Int, "255", "list datasets: the ignored label value", "[0, 32767]"},
      {"data.synthetic_train_samples", K::Int, "200", "synthetic: training scenes", "[1, inf)"},
      {"data.synthetic_val_samples", K::Int, "20", "synthetic: validation scenes", "[1, inf)"},
      {"data.synthetic_size", K::IntList, "[128, 256]", "synthetic: scene size [h, w]",
       "[1, 16384]"},
      {"data.train_resize", K::IntList, "[]",
       "resize training samples to [h, w] before "
       "augmentation (e.g. CamVid to 720x960); []: no",
       "[1, 16384]"},
      {"data.augment", K::String, "flip",
       "none, flip, cifrenet (flip, scale 0.5-1.5, rotate, "
       "colour, crop) or pidnet (edges, multi-scale, crop, flip)"},
      {"data.crop", K::IntList, "[]", "training crop [h, w]; []: none (flip/none only)",
       "[1, 16384]"},
      {"data.base_size", K::Int, "0", "pidnet: long side at scale 1 (Cityscapes 2048, CamVid 960)",
       "[0, 16384]"},
      {"data.boundary_frame", K::Int, "0", "pidnet: border cleared in edge maps (Cityscapes 6)",
       "[0, 65535]"},
      {"data.rotate_label_fill", K::Int, "255",
       "cifrenet: label of corners emptied by rotation "
       "(the authors' code effectively uses 0)",
       "[0, 32767]"},
      {"data.eval_size", K::IntList, "[]",
       "resize for evaluation [h, w] (labels nearest); []: native", "[1, 16384]"},
      {"data.normalization", K::String, "imagenet", "imagenet, cifrenet_bgr or unit"},
      {"data.workers", K::Int, "2", "loader threads (0: load in the main thread)", "[0, 256]"},
      {"train.device", K::String, "auto", "auto (GPU when present), cpu, cuda or cuda:N"},
      {"train.batch_size", K::Int, "4", "images per iteration", "[1, inf)"},
      {"train.iterations", K::Int, "0", "iterations to train; 0: train.epochs epochs", "[0, inf)"},
      {"train.epochs", K::Int, "0", "epochs to train when train.iterations is 0", "[0, inf)"},
      {"train.schedule_epochs", K::Int, "0",
       "epochs the poly schedule spans (PIDNet's END_EPOCH); "
       "0: the length of the run",
       "[0, inf)"},
      {"train.lr", K::Float, "0.01", "base learning rate", "(0, inf)"},
      {"train.momentum", K::Float, "0.9", "SGD momentum", "[0, 1)"},
      {"train.nesterov", K::Bool, "false", "Nesterov momentum"},
      {"train.weight_decay", K::Float, "0.0005", "L2 weight decay", "[0, inf)"},
      {"train.poly_power", K::Float, "0.9", "poly schedule power", "[0, inf)"},
      {"train.warmup_iters", K::Int, "0", "linear warm-up iterations", "[0, inf)"},
      {"train.warmup_ratio", K::Float, "0.1", "warm-up starts at this fraction of the LR",
       "[0, 1]"},
      {"train.loss", K::String, "ce", "ce, ohem (rtseg train --help lists the registered losses)"},
      {"train.ce_reduction", K::String, "mean",
       "mean (Σ w·nll / Σ w, PyTorch) or all_pixels (Σ w·nll / all pixels, CIFReNet's code)"},
      {"train.class_weights", K::FloatList, "[]", "per-class loss weights; []: none", "[0, inf)"},
      {"train.class_weight_prob", K::Float, "1.0",
       "probability of applying the class weights in an iteration (CIFReNet: 0.99)", "[0, 1]"},
      {"train.ohem_thresh", K::Float, "0.9", "OHEM probability threshold", "[0, 1]"},
      {"train.ohem_keep", K::Int, "131072", "OHEM minimum kept pixels", "[0, inf)"},
      {"train.complexity_source", K::String, "teacher",
       "icfrnet: complexity pseudo-labels from the IC9600 teacher, precomputed PNGs, or the "
       "analytic proxy (an approximation)"},
      {"train.complexity_dir", K::String, "''", "icfrnet, precomputed: folder of <name>.png maps"},
      {"train.teacher_weights", K::String, "''",
       "icfrnet, teacher: the IC9600 ICNet weights "
       "(ck.pth converted with rtseg convert)"},
      {"train.seed", K::Int, "304", "seed of initialisation, data order and augmentation"},
      {"train.log_interval", K::Int, "10", "iterations between log lines and CSV rows", "[1, inf)"},
      {"train.val_interval", K::Int, "0", "iterations between validations; 0: once per epoch",
       "[0, inf)"},
      {"train.checkpoint_interval", K::Int, "0",
       "iterations between `last` checkpoints; 0: at "
       "each validation",
       "[0, inf)"},
      {"eval.batch_size", K::Int, "1", "images per evaluation batch", "[1, inf)"},
      {"eval.flip", K::Bool, "false", "average the logits of the image and its mirror"},
      {"eval.max_samples", K::Int, "0", "evaluate on the first N samples only; 0: all", "[0, inf)"},
      {"output.dir", K::String, "''", "run folder; empty: runs/<config file stem>"},

  };
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
  ModelSettings& m = e.model;
  m.name = c.get_string("model.name");
  m.classes = c.get_int("model.classes");
  m.weights = c.get_string("model.weights");
  m.weights_partial = c.get_bool("model.weights_partial");
  RTSEG_CHECK(!m.name.empty(), "config: model.name is empty");

  DataSettings& d = e.data;
  d.dataset = c.get_string("data.dataset");
  check_choice("data.dataset", d.dataset,
               {"synthetic", "camvid", "camvid960", "cityscapes", "helen", "list"});
  d.root = c.get_string("data.root");
  d.train_split = c.get_string("data.train_split");
  d.val_split = c.get_string("data.val_split");
  d.class_file = c.get_string("data.class_file");
  d.label_format = c.get_string("data.label_format");
  check_choice("data.label_format", d.label_format, {"index", "colour"});
  d.remap_file = c.get_string("data.remap_file");
  d.ignore_index = c.get_int("data.ignore_index");
  d.synthetic_train_samples = c.get_int("data.synthetic_train_samples");
  d.synthetic_val_samples = c.get_int("data.synthetic_val_samples");
  d.synthetic_size = c.get_ints("data.synthetic_size");
  check_size("data.synthetic_size", d.synthetic_size, false);
  d.train_resize = c.get_ints("data.train_resize");
  check_size("data.train_resize", d.train_resize, true);
  d.augment = c.get_string("data.augment");
  check_choice("data.augment", d.augment, {"none", "flip", "cifrenet", "pidnet"});
  d.crop = c.get_ints("data.crop");
  check_size("data.crop", d.crop, true);
  RTSEG_CHECK(!d.crop.empty() || (d.augment != "cifrenet" && d.augment != "pidnet"),
              "config: data.augment {} needs data.crop [h, w]", d.augment);
  d.base_size = c.get_int("data.base_size");
  RTSEG_CHECK(d.augment != "pidnet" || d.base_size >= 1,
              "config: data.augment pidnet needs data.base_size (Cityscapes 2048, CamVid 960)");
  d.boundary_frame = c.get_int("data.boundary_frame");
  d.rotate_label_fill = c.get_int("data.rotate_label_fill");
  d.eval_size = c.get_ints("data.eval_size");
  check_size("data.eval_size", d.eval_size, true);
  d.normalization = c.get_string("data.normalization");
  check_choice("data.normalization", d.normalization, {"imagenet", "cifrenet_bgr", "unit"});
  d.workers = c.get_int("data.workers");

  m.variant = c.get_string("model.variant");
  if (m.variant.empty()) {
    m.variant = d.dataset == "camvid960" ? "camvid" : d.dataset;
    if (!one_of(m.variant, {"cityscapes", "camvid", "helen"})) m.variant = "cityscapes";
  }

  TrainSettings& t = e.train;
  t.device = c.get_string("train.device");
  RTSEG_CHECK(one_of(t.device, {"auto", "cpu", "cuda"}) || t.device.rfind("cuda:", 0) == 0,
              "config: train.device must be auto, cpu, cuda or cuda:N, got '{}'", t.device);
  t.batch_size = c.get_int("train.batch_size");
  t.iterations = c.get_int("train.iterations");
  t.epochs = c.get_int("train.epochs");
  t.schedule_epochs = c.get_int("train.schedule_epochs");
  t.lr = c.get_float("train.lr");
  t.momentum = c.get_float("train.momentum");
  t.nesterov = c.get_bool("train.nesterov");
  t.weight_decay = c.get_float("train.weight_decay");
  RTSEG_CHECK(!t.nesterov || t.momentum > 0, "config: train.nesterov needs train.momentum > 0");
  t.poly_power = c.get_float("train.poly_power");
  t.warmup_iters = c.get_int("train.warmup_iters");
  t.warmup_ratio = c.get_float("train.warmup_ratio");
  t.loss = c.get_string("train.loss");
  t.ce_reduction = c.get_string("train.ce_reduction");
  check_choice("train.ce_reduction", t.ce_reduction, {"mean", "all_pixels"});
  t.class_weights = c.get_floats("train.class_weights");
  t.class_weight_prob = c.get_float("train.class_weight_prob");
  t.ohem_thresh = c.get_float("train.ohem_thresh");
  t.ohem_keep = c.get_int("train.ohem_keep");
  t.complexity_source = c.get_string("train.complexity_source");
  check_choice("train.complexity_source", t.complexity_source, {"teacher", "precomputed", "proxy"});
  t.complexity_dir = c.get_string("train.complexity_dir");
  t.teacher_weights = c.get_string("train.teacher_weights");
  t.seed = c.get_int("train.seed");
  t.log_interval = c.get_int("train.log_interval");
  t.val_interval = c.get_int("train.val_interval");
  t.checkpoint_interval = c.get_int("train.checkpoint_interval");

  EvalSettings& v = e.eval;
  v.batch_size = c.get_int("eval.batch_size");
  v.flip = c.get_bool("eval.flip");
  v.max_samples = c.get_int("eval.max_samples");

  e.output_dir = c.get_string("output.dir");
  if (e.output_dir.empty()) {
    const std::string stem =
        config_path.empty() ? "default" : std::filesystem::path(config_path).stem().string();
    e.output_dir = (std::filesystem::path("runs") / stem).string();
  }
  return e;
}

}  // namespace rtseg::app
