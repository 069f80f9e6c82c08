// rtseg eval --weights CKPT [--config FILE] [KEY=VALUE ...] [--split S] [--flip] [--device D]
//            [--max-samples N] [--examples N] [--submission DIR] [--output DIR]
#include <filesystem>
#include <optional>

#include "apps/commands.h"
#include "apps/lib/datasets.h"
#include "apps/lib/evaluator.h"
#include "apps/lib/experiment.h"
#include "apps/lib/metrics.h"
#include "apps/lib/model.h"
#include "apps/lib/render.h"
#include "apps/lib/run_folder.h"
#include "core/ops.h"
#include "data/cityscapes.h"
#include "data/image_io.h"
#include "kernels/error.h"

namespace fs = std::filesystem;

namespace rtseg::app {

namespace {

struct EvalArgs {
  std::string config, weights, split, output, submission, device;
  Overrides overrides;
  bool flip = false;
  int64_t max_samples = -1, examples = 0;
};

// Input, ground truth and prediction of the first `count` samples as PNGs in `dir`: a look at
// what the numbers mean.
void write_examples(Module& net, const data::Dataset& dataset, const Experiment& e, Device device,
                    size_t count, const std::string& dir) {
  fs::create_directories(dir);
  const data::Pipeline pipeline = eval_pipeline(e.data);
  for (size_t i = 0; i < std::min(count, dataset.size()); ++i) {
    data::Sample s = dataset.get(i);
    Generator unused(0);
    pipeline.apply(s, unused);
    const Tensor x = reshape(data::to_tensor(s.image, normalization(e.data)),
                             {1, 3, s.image.height, s.image.width});
    const data::Label prediction =
        to_label(argmax_classes(predict_logits(net, x.to(device), e.eval.flip)), 0);
    const std::string stem = (fs::path(dir) / s.name).string();
    data::write_png(stem + "_image.png", s.image);
    if (!s.label.empty())
      data::write_png(stem + "_truth.png", colourize(s.label, dataset.palette()));
    data::write_png(stem + "_prediction.png",
                    prediction_overlay(s.image, prediction, dataset.info(), 0.6, true));
  }
}

void run_eval(const EvalArgs& a, CommandContext& ctx) {
  std::vector<std::string> overrides = a.overrides.all();
  if (!a.device.empty()) overrides.push_back("train.device=" + a.device);
  if (a.flip) overrides.push_back("eval.flip=true");
  if (a.max_samples >= 0) overrides.push_back("eval.max_samples=" + std::to_string(a.max_samples));
  const Config config = config_for_weights(a.config, a.weights, overrides);
  const Experiment e = read_experiment(config, a.config);
  const data::DatasetInfo info = dataset_info(e.data);
  const std::string split = a.split.empty() ? e.data.val_split : a.split;
  RTSEG_CHECK(!split.empty(), "eval: no split to evaluate (give --split or data.val_split)");
  const auto dataset = open_dataset(e.data, split, uint64_t(e.train.seed));
  const Device device = choose_device(e.train.device);

  const int64_t classes = e.model.classes ? e.model.classes : info.num_classes();
  auto net = build_net(e.model, classes, "infer", uint64_t(e.train.seed));
  const LoadReport report = load_inference_weights(*net, a.weights);
  if (!report.unexpected.empty()) {
    ctx.out << fmt::format(
        "note: {} tensors of {} are not part of the inference graph (e.g. {}); ignored\n",
        report.unexpected.size(), a.weights, report.unexpected.front());
  }
  net->to(device);
  prepare_inference_net(*net);

  EvalOptions eo;
  eo.flip = e.eval.flip;
  eo.max_samples = size_t(e.eval.max_samples);
  eo.batch_size = int(e.eval.batch_size);
  eo.workers = int(e.data.workers);
  eo.normalization = normalization(e.data);
  eo.device = device;
  // The output folders are checked before the evaluation, not after it.
  std::string out_dir = a.output;
  if (out_dir.empty()) {
    out_dir =
        (fs::path(a.weights).parent_path() / ("eval_" + fs::path(split).stem().string())).string();
  }
  require_writable_folder(out_dir, "eval -o");
  if (!a.submission.empty()) require_writable_folder(a.submission, "eval --submission");
  size_t written = 0;
  if (!a.submission.empty()) {
    RTSEG_CHECK(e.data.dataset == "cityscapes",
                "eval --submission writes Cityscapes server files; the dataset is {}",
                e.data.dataset);
    // The server wants label ids (not train ids) at full resolution, one PNG per image.
    eo.on_full_resolution = [&](const std::string& name, const data::Label& prediction) {
      data::Label ids = prediction;
      data::cityscapes_train_ids_to_ids(ids);
      data::write_label_png((fs::path(a.submission) / (name + ".png")).string(), ids);
      ++written;
    };
  }
  size_t last_shown = 0;
  eo.on_progress = [&](size_t done, size_t total) {
    if (ctx.tty) {
      ctx.out << fmt::format("\reval {}/{}", done, total) << std::flush;
    } else if (done == total || done >= last_shown + std::max<size_t>(1, total / 10)) {
      ctx.out << fmt::format("eval {}/{}\n", done, total) << std::flush;
      last_shown = done;
    }
  };

  ctx.out << fmt::format("evaluating {} on {} {} ({} images, {}, eval size {}{}) on {}\n",
                         a.weights, info.name, split, dataset->size(), e.model.name,
                         size_text(e.data.eval_size), e.eval.flip ? ", flip" : "", device.str());
  const EvalResult r = evaluate(*net, dataset, eval_pipeline(e.data), eo);
  if (ctx.tty) ctx.out << "\n";
  ctx.out << fmt::format("{} images in {:.1f}s ({:.1f} images/s)\n", r.images, r.seconds,
                         r.seconds > 0 ? r.images / r.seconds : 0.0);
  if (written)
    ctx.out << fmt::format("submission: {} label-id PNGs in {}\n", written, a.submission);
  // The metrics first: whatever fails after them, what the evaluation computed is on the screen.
  std::optional<SegmentationMetrics> m;
  if (r.matrix.total() == 0) {
    ctx.out << "no labelled pixels in this split: no metrics\n";
  } else {
    m = compute_metrics(r.matrix);
    ctx.out << "\n" << format_metrics_table(*m, info.class_names);
    ctx.out << "\nconfusion matrix (pixels; rows: ground truth, columns: prediction)\n"
            << format_confusion_matrix(r.matrix, info.class_names) << std::flush;
  }
  if (a.examples > 0) {
    const std::string examples = (fs::path(out_dir) / "examples").string();
    write_examples(*net, *dataset, e, device, size_t(a.examples), examples);
    ctx.out << fmt::format("examples: input, truth and prediction PNGs of {} images in {}\n",
                           std::min<size_t>(size_t(a.examples), dataset->size()), examples);
  }
  if (!m) return;
  const std::string json = (fs::path(out_dir) / "metrics.json").string();
  write_metrics_json(json, *m, r.matrix, info.class_names,
                     {{"weights", a.weights},
                      {"split", split},
                      {"dataset", info.name},
                      {"net", e.model.name},
                      {"flip", e.eval.flip ? "true" : "false"},
                      {"eval_size", size_text(e.data.eval_size)}});
  ctx.out << "\nmetrics: " << json << "\n";
}

}  // namespace

void add_eval_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate weights on a split: mIoU, per-class IoU/Acc, aAcc, mAcc, confusion matrix");
  cmd->add_option("-w,--weights", args->weights, "training checkpoint or safetensors weights")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-c,--config", args->config,
                  "YAML recipe (default: the config saved in the checkpoint)")
      ->check(CLI::ExistingFile);
  add_override_options(cmd, args->overrides, true);
  cmd->add_option("--split", args->split,
                  "split or list file to evaluate (default: data.val_split)");
  cmd->add_flag("--flip", args->flip, "average with the mirrored image's prediction");
  cmd->add_option("--max-samples", args->max_samples, "evaluate the first N images only")
      ->check(at_least(0));
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N (default: train.device)");
  cmd->add_option("-o,--output", args->output,
                  "folder for metrics.json (default: <weights folder>/eval_<split>)");
  cmd->add_option("--examples", args->examples,
                  "write input, ground truth and prediction PNGs of the first N images")
      ->check(at_least(0));
  cmd->add_option("--submission", args->submission,
                  "Cityscapes: write full-resolution label-id PNGs for the benchmark server here");
  cmd->callback([args, &context] { run_eval(*args, context); });
}

}  // namespace rtseg::app
