// rtseg predict --weights CKPT [--config FILE] INPUT... [--output DIR] [--size HxW] [--flip]
// INPUT: an image, a folder of images, or a .txt list (first field of each line).
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "apps/commands.h"
#include "apps/lib/datasets.h"
#include "apps/lib/evaluator.h"
#include "apps/lib/experiment.h"
#include "apps/lib/metrics.h"
#include "apps/lib/model.h"
#include "apps/lib/output_names.h"
#include "apps/lib/render.h"
#include "core/ops.h"
#include "data/geometry.h"
#include "data/image_io.h"
#include "kernels/error.h"

namespace fs = std::filesystem;

namespace rtseg::app {

namespace {

struct PredictArgs {
  std::string config, weights, output = "predictions", size, device;
  std::vector<std::string> inputs;
  Overrides overrides;
  bool flip = false, legend = true;
  double alpha = 0.5;
};

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

std::vector<std::string> collect_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    const fs::path p(in);
    RTSEG_CHECK(fs::exists(p), "predict: input {} does not exist", in);
    if (fs::is_directory(p)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(p)) {
        if (entry.is_regular_file() && is_image_file(entry.path()))
          found.push_back(entry.path().string());
      }
      std::sort(found.begin(), found.end());
      RTSEG_CHECK(!found.empty(), "predict: no .png/.jpg/.bmp images in {}", in);
      files.insert(files.end(), found.begin(), found.end());
    } else if (p.extension() == ".txt") {
      // A list file: paths relative to the list's folder, first field of each line.
      for (const data::TextLine& line : data::read_text_lines(in)) {
        files.push_back(data::join_path(p.parent_path().string(), line.fields.front()));
      }
    } else {
      files.push_back(in);
    }
  }
  return files;
}

void run_predict(const PredictArgs& a, CommandContext& ctx) {
  std::vector<std::string> overrides = a.overrides.all();
  if (!a.device.empty()) overrides.push_back("train.device=" + a.device);
  if (!a.size.empty()) {
    const auto [h, w] = parse_size(a.size, "predict --size");
    overrides.push_back(fmt::format("data.eval_size=[{}, {}]", h, w));
  }
  const Config config = config_for_weights(a.config, a.weights, overrides);
  const Experiment e = read_experiment(config, a.config);
  const data::DatasetInfo info = dataset_info(e.data);
  const Device device = choose_device(e.train.device);
  RTSEG_CHECK(a.alpha >= 0 && a.alpha <= 1, "predict: --alpha must be in [0, 1], got {}", a.alpha);
  const NamedInputs inputs = name_outputs(collect_inputs(a.inputs));
  const std::vector<std::string>& files = inputs.files;

  const int64_t classes = e.model.classes ? e.model.classes : info.num_classes();
  auto net = build_net(e.model, classes, "infer", uint64_t(e.train.seed));
  load_inference_weights(*net, a.weights);
  net->to(device);
  prepare_inference_net(*net);
  fs::create_directories(a.output);

  ctx.out << fmt::format("predicting {} image(s) with {} ({}) on {}, input size {}\n", files.size(),
                         e.model.name, a.weights, device.str(), size_text(e.data.eval_size));
  for (const std::string& note : inputs.notes) ctx.out << "note: " << note << "\n";
  ctx.out << std::flush;
  std::vector<double> times;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    const data::Image image = data::read_image(file);
    data::Image input = image;
    if (e.data.eval_size.size() == 2) {
      input = data::resize_bilinear(image, int(e.data.eval_size[1]), int(e.data.eval_size[0]));
    }
    const Tensor x =
        reshape(data::to_tensor(input, normalization(e.data)), {1, 3, input.height, input.width})
            .to(device);
    // Timed: forward, resize of the logits back to the image, argmax on the host.
    const auto start = std::chrono::steady_clock::now();
    Tensor logits = predict_logits(*net, x, a.flip);
    if (logits.size(2) != image.height || logits.size(3) != image.width) {
      logits = interpolate_bilinear(logits, image.height, image.width, /*align_corners=*/true);
    }
    const data::Label classes_map = to_label(argmax_classes(logits), 0);
    const double ms =
        1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    times.push_back(ms);

    const std::string stem = (fs::path(a.output) / inputs.names[i]).string();
    fs::create_directories(fs::path(stem).parent_path());
    data::write_png(stem + "_color.png", colourize(classes_map, info.palette));
    data::write_png(stem + "_overlay.png",
                    prediction_overlay(image, classes_map, info, a.alpha, a.legend));
    data::write_label_png(stem + "_label.png", classes_map);
    // Flushed per image: a log of a killed run (stdout redirected) shows what was done.
    ctx.out << fmt::format("{}: {}x{}, {:.1f} ms -> {}_overlay.png\n", file, image.width,
                           image.height, ms, stem)
            << std::flush;
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  // The first image pays one-time costs (allocations, algorithm choices): left out of the mean.
  const size_t first = times.size() > 1 ? 1 : 0;
  for (size_t i = first; i < times.size(); ++i) mean += times[i];
  mean /= double(times.size() - first);
  ctx.out << fmt::format(
      "{} image(s): mean {:.1f} ms{} (median {:.1f} ms, {:.1f} images/s), outputs in {}\n",
      times.size(), mean, first ? " after the first" : "", sorted[sorted.size() / 2], 1e3 / mean,
      a.output);
}

}  // namespace

void add_predict_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Segment images: colour PNG, overlay and label PNG per image, with timing");
  cmd->add_option("inputs", args->inputs, "images, folders of images, or .txt lists")->required();
  cmd->add_option("-w,--weights", args->weights, "training checkpoint or safetensors weights")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-c,--config", args->config,
                  "YAML recipe (default: the config saved in the checkpoint)")
      ->check(CLI::ExistingFile);
  add_override_options(cmd, args->overrides, false);
  cmd->add_option("-o,--output", args->output, "output folder")->capture_default_str();
  cmd->add_option("--size", args->size,
                  "run the net at HxW (default: data.eval_size, else the image's)");
  cmd->add_option("--alpha", args->alpha, "overlay opacity of the colours")->capture_default_str();
  cmd->add_flag("--flip", args->flip, "average with the mirrored image's prediction");
  cmd->add_flag("!--no-legend", args->legend, "leave the class legend off the overlays");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N (default: train.device)");
  cmd->callback([args, &context] { run_predict(*args, context); });
}

}  // namespace rtseg::app
