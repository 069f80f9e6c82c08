// Shared by the tests of the `rtseg` command: running it in-process, checking its one-line
// errors, and a tiny training recipe.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "test_data_fixtures.h"

namespace rtseg::testing {

struct CliResult {
  int status = 0;
  std::string out, err;
};

inline CliResult rtseg_cli(const std::vector<std::string>& args) {
  using namespace rtseg::app;
  static const std::vector<CommandAdder> commands = {
      add_train_command,   add_eval_command,    add_predict_command,
      add_summary_command, add_convert_command, add_check_dataset_command};
  std::ostringstream out, err;
  CliResult r;
  r.status = run_cli(args, commands, out, err, false);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A failure: non-zero status and exactly one line on stderr that starts with "error:" and holds
// `fragment`.
inline void require_one_line_error(const std::vector<std::string>& args,
                                   const std::string& fragment) {
  const CliResult r = rtseg_cli(args);
  INFO("args: " << fmt::format("{}", fmt::join(args, " ")) << "\nstderr: " << r.err
                << "\nstdout: " << r.out);
  REQUIRE(r.status != 0);
  REQUIRE(r.err.rfind("error: ", 0) == 0);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  REQUIRE(r.err.back() == '\n');
  REQUIRE(r.err.find(fragment) != std::string::npos);
}

// A tiny recipe: CIFReNet on 4 synthetic 32×32 scenes, batch 2 (2 iterations per epoch), with
// dropout, class weights drawn with probability 0.5 and a data loader thread, so that a resume
// has every kind of state to restore.
inline std::string tiny_config(const TempDir& dir, const std::string& extra = "") {
  return dir.write_text("tiny.yaml", R"(model:
  name: cifrenet
  variant: camvid
data:
  dataset: synthetic
  synthetic_train_samples: 4
  synthetic_val_samples: 2
  synthetic_size: [32, 32]
  augment: flip
  workers: 1
train:
  device: cpu
  batch_size: 2
  iterations: 4
  lr: 0.02
  nesterov: true
  class_weights: [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
  class_weight_prob: 0.5
  log_interval: 1
  val_interval: 2
eval:
  batch_size: 2
)" + extra);
}

}  // namespace rtseg::testing
