// rtseg check-dataset --config FILE [KEY=VALUE ...] [--split S]
// rtseg check-dataset --dataset NAME --root DIR [--split S] [--class-file F] ...
#include "apps/commands.h"
#include "apps/lib/datasets.h"
#include "apps/lib/experiment.h"
#include "data/check_dataset.h"
#include "kernels/error.h"

namespace rtseg::app {

namespace {

struct CheckArgs {
  std::string config, dataset, root, split, class_file, label_format;
  Overrides overrides;
  bool skip_bad = false;
  int64_t max_samples = 0;
  int threads = 2;
};

void run_check(const CheckArgs& a, CommandContext& ctx) {
  RTSEG_CHECK(!a.config.empty() || !a.dataset.empty(),
              "check-dataset: give --config FILE or --dataset NAME (with --root DIR)");
  std::vector<std::string> overrides = a.overrides.all();  // the flags below win over them
  if (!a.dataset.empty()) overrides.push_back("data.dataset=" + a.dataset);
  if (!a.root.empty()) overrides.push_back("data.root=" + a.root);
  if (!a.class_file.empty()) overrides.push_back("data.class_file=" + a.class_file);
  if (!a.label_format.empty()) overrides.push_back("data.label_format=" + a.label_format);
  const Config config = load_experiment_config(a.config, overrides);
  const Experiment e = read_experiment(config, a.config);

  std::vector<std::string> splits;
  if (!a.split.empty()) {
    splits.push_back(a.split);
  } else {
    splits.push_back(e.data.train_split);
    if (!e.data.val_split.empty() && e.data.val_split != e.data.train_split)
      splits.push_back(e.data.val_split);
  }
  data::CheckOptions options;
  options.skip_bad = a.skip_bad;
  options.max_samples = size_t(a.max_samples);
  options.threads = a.threads;
  size_t problems = 0;
  for (const std::string& split : splits) {
    const auto dataset = open_dataset(e.data, split, uint64_t(e.train.seed));
    ctx.out << fmt::format("== {} {} ({} samples)\n", e.data.dataset, split, dataset->size());
    const data::DatasetReport report = data::check_dataset(*dataset, options);
    ctx.out << report.summary() << "\n";
    problems += report.problems.size() + report.split_errors.size();
  }
  if (problems) {
    ctx.out << fmt::format("{} problem(s) found\n", problems);
    ctx.status = 1;
  } else {
    ctx.out << "no problems found\n";
  }
}

}  // namespace

void add_check_dataset_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check-dataset",
      "Decode every sample: sizes, class histogram, bad label values, missing/corrupt files");
  cmd->add_option("-c,--config", args->config, "YAML recipe whose data section to check")
      ->check(CLI::ExistingFile);
  add_override_options(cmd, args->overrides, true);
  cmd->add_option("--dataset", args->dataset,
                  "synthetic, camvid, camvid960, cityscapes, helen or list");
  cmd->add_option("--root", args->root, "dataset folder");
  cmd->add_option("--split", args->split,
                  "split or list file (default: the config's train and val splits)");
  cmd->add_option("--class-file", args->class_file, "list datasets: `name R G B` per class");
  cmd->add_option("--label-format", args->label_format, "list datasets: index or colour");
  cmd->add_flag("--skip-bad", args->skip_bad,
                "report bad samples and go on instead of stopping at the first");
  cmd->add_option("--max-samples", args->max_samples, "check the first N samples only")
      ->check(at_least(0));
  cmd->add_option("--threads", args->threads, "samples decoded in parallel")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->callback([args, &context] { run_check(*args, context); });
}

}  // namespace rtseg::app
