// The command line: `rtseg COMMAND [options]` with CLI11 subcommands. Each command adds itself
// with an add_*_command function (apps/commands.h); run_cli parses, runs the chosen command and
// turns every failure — a bad flag, a bad config key, a missing file, an unreadable checkpoint —
// into one line "error: ..." on stderr and a non-zero status, never a crash or a stack trace.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace rtseg::app {

struct CommandContext {
  std::ostream& out;
  std::ostream& err;
  bool tty = false;  // stdout is a terminal (progress lines are redrawn)
  int status = 0;    // a command's exit status when it does not fail (e.g. 1: problems found)
};

using CommandAdder = void (*)(CLI::App& app, CommandContext& context);

// Runs `rtseg` with `args` (without the program name). Returns the exit status: 0 on success,
// the command's status, 1 for errors, CLI11's codes for bad usage (and 0 for --help).
int run_cli(const std::vector<std::string>& args, const std::vector<CommandAdder>& commands,
            std::ostream& out, std::ostream& err, bool tty);

// The message on one line: runs of whitespace that include line breaks become one space.
std::string one_line(const std::string& message);

// The KEY=VALUE settings a config-driven command takes: positional ones (where the command has
// no other positionals) and the repeatable --set KEY=VALUE.
struct Overrides {
  std::vector<std::string> positional, set;
  // Positional settings, then --set ones: a later setting of a key wins.
  std::vector<std::string> all() const;
};
void add_override_options(CLI::App* command, Overrides& overrides, bool positional);

// `word` as one shell word: as it is where that is safe, else single-quoted.
std::string shell_word(const std::string& word);

// A numeric flag's lower bound, said as "--classes: must be >= 1, got 0" (CLI11's own
// PositiveNumber prints its bounds as 300-digit floats).
CLI::Validator at_least(double lo);

}  // namespace rtseg::app
