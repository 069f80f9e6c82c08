// rtseg: the command-line tool. Each subcommand lives in apps/cmd_<name>.cpp and is declared in
// apps/commands.h; offering it is one line in the table below.
#include <iostream>

#include "apps/commands.h"
#include "apps/lib/progress.h"

int main(int argc, char** argv) {
  using namespace rtseg::app;
  const std::vector<CommandAdder> commands = {
      add_train_command,   add_eval_command,          add_predict_command, add_summary_command,
      add_convert_command, add_check_dataset_command, add_bench_command,
  };
  return run_cli(std::vector<std::string>(argv + 1, argv + argc), commands, std::cout, std::cerr,
                 stdout_is_tty());
}
