// rtseg train --config FILE [KEY=VALUE ...] [--resume | --resume-from CKPT | --overwrite] [--output
// DIR]
#include <filesystem>

#include "apps/commands.h"
#include "apps/lib/experiment.h"
#include "apps/lib/losses.h"
#include "apps/lib/progress.h"
#include "apps/lib/run_folder.h"
#include "apps/lib/trainer.h"
#include "kernels/error.h"

namespace rtseg::app {

namespace {

struct TrainArgs {
  std::string config;
  Overrides overrides;
  bool resume = false;
  bool overwrite = false;
  std::string resume_from;
  std::string output;
  bool keys = false;
};

void run_train(const TrainArgs& a, CommandContext& ctx) {
  if (a.keys) {
    ctx.out << describe_keys(experiment_schema());
    ctx.out << "\nregistered losses (train.loss):\n";
    for (const auto& [name, description] : registered_losses())
      ctx.out << "  " << name << "  " << description << "\n";
    return;
  }
  RTSEG_CHECK(!a.config.empty(), "train: --config FILE is required (see configs/*.yaml)");
  std::vector<std::string> overrides = a.overrides.all();
  const std::vector<std::string> settings =
      overrides;  // as the user gave them, for the resume command
  if (!a.output.empty()) overrides.push_back("output.dir=" + a.output);
  const Config config = load_experiment_config(a.config, overrides);
  const std::string run_dir = read_experiment(config, a.config).output_dir;

  TrainOptions options;
  options.config_path = a.config;
  options.out = &ctx.out;
  options.tty = ctx.tty;
  options.overwrite = a.overwrite;
  options.resume_command = resume_command(a.config, settings, run_dir);
  RTSEG_CHECK(!(a.resume && !a.resume_from.empty()),
              "train: give either --resume or --resume-from, not both");
  RTSEG_CHECK(!(a.overwrite && (a.resume || !a.resume_from.empty())),
              "train: --overwrite starts a new run; it does not go with --resume or --resume-from");
  if (a.resume) {
    options.resume = (std::filesystem::path(run_dir) / "last.safetensors").string();
    RTSEG_CHECK(std::filesystem::exists(options.resume),
                "train --resume: no checkpoint {} (nothing to resume in {})", options.resume,
                run_dir);
  }
  if (!a.resume_from.empty()) options.resume = a.resume_from;

  const TrainResult r = train(config, options);
  if (r.interrupted) {
    ctx.out << fmt::format("stopped at iteration {}/{} after {}; resume with: {}\n", r.iteration,
                           r.total, format_duration(r.seconds), options.resume_command);
    ctx.status = 130;  // the shell's convention for a run ended by Ctrl-C
    return;
  }
  ctx.out << fmt::format("finished {} iterations in {}\n", r.iteration, format_duration(r.seconds));
  if (r.last_miou >= 0) {
    ctx.out << fmt::format("validation mIoU: last {:.2f}, best {:.2f}\n", 100 * r.last_miou,
                           100 * r.best_miou);
  }
  ctx.out << "checkpoints: " << r.last_checkpoint;
  if (!r.best_checkpoint.empty()) ctx.out << ", " << r.best_checkpoint;
  ctx.out << "\nlogs: " << r.output_dir
          << "/{train_log.csv, val_log.csv, events.out.tfevents.*, curves.png, metrics.json}\n";
}

}  // namespace

void add_train_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a net from a YAML recipe (configs/*.yaml)");
  cmd->add_option("-c,--config", args->config, "YAML recipe")->check(CLI::ExistingFile);
  add_override_options(cmd, args->overrides, true);
  cmd->add_flag("--resume", args->resume, "continue the run from <run folder>/last.safetensors");
  cmd->add_flag("--overwrite", args->overwrite,
                "start a new run even where the run folder holds one (its run files are removed)");
  cmd->add_option("--resume-from", args->resume_from, "continue from this training checkpoint")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output,
                  "run folder (default: output.dir, or runs/<config stem>)");
  cmd->add_flag("--keys", args->keys,
                "list every config key with its default and meaning, and exit");
  cmd->callback([args, &context] { run_train(*args, context); });
}

}  // namespace rtseg::app
