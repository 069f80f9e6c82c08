// The subcommands of `rtseg`, one file each (apps/cmd_*.cpp, compiled into rtseg_app by the glob
// of apps/CMakeLists.txt). apps/rtseg.cpp lists the ones the binary offers.
#pragma once

#include "apps/lib/cli.h"

namespace rtseg::app {

void add_train_command(CLI::App& app, CommandContext& context);
void add_eval_command(CLI::App& app, CommandContext& context);
void add_predict_command(CLI::App& app, CommandContext& context);
void add_summary_command(CLI::App& app, CommandContext& context);
void add_convert_command(CLI::App& app, CommandContext& context);
void add_check_dataset_command(CLI::App& app, CommandContext& context);
void add_bench_command(CLI::App& app, CommandContext& context);  // bench and bench-kernels

}  // namespace rtseg::app
