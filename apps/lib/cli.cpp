#include "apps/lib/cli.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <new>

#include "core/backend.h"
#include "kernels/error.h"

namespace rtseg::app {

std::string one_line(const std::string& message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string> Overrides::all() const {
  std::vector<std::string> out = positional;
  out.insert(out.end(), set.begin(), set.end());
  return out;
}

void add_override_options(CLI::App* command, Overrides& overrides, bool positional) {
  // Two vectors: CLI11 assigns an option's results to its variable, so options sharing one
  // vector would overwrite each other.
  if (positional) {
    command->add_option(
        "overrides", overrides.positional,
        "KEY=VALUE settings over the config file, e.g. train.lr=0.005 data.crop=[256,512]");
  }
  command->add_option("--set", overrides.set,
                      "KEY=VALUE setting over the config file (repeatable)");
}

namespace {

void add_cpu_options(CLI::App& app) {
  // Options of every command (given before or after the command's name): they act on the CPU
  // backend as soon as they are parsed, before the command runs.
  app.fallthrough();
  app.add_option_function<int>(
         "--threads", [](int n) { set_cpu_threads(n); },
         "CPU threads (default: $RTSEG_NUM_THREADS, else one per core); results are the same "
         "bits for any count")
      ->check(CLI::Range(1, 1024))
      ->trigger_on_parse();
  app.add_option_function<std::string>(
         "--cpu-backend",
         [](const std::string& name) {
           set_cpu_backend(name == "reference" ? Backend::CpuReference : Backend::CpuFast);
         },
         "CPU kernels for float32: fast (default where built) or reference (the plain loops "
         "every other backend is tested against)")
      ->check(CLI::IsMember({"fast", "reference"}))
      ->trigger_on_parse();
}

}  // namespace

int run_cli(const std::vector<std::string>& args, const std::vector<CommandAdder>& commands,
            std::ostream& out, std::ostream& err, bool tty) {
  CLI::App app{
      "rtseg: real-time semantic segmentation (CIFReNet, PIDNet-S, ICFRNet) from scratch in C++",
      "rtseg"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rtseg 0.1");
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    std::string where = "rtseg";
    for (const CLI::App* sub : a->get_subcommands()) where += " " + sub->get_name();
    return fmt::format("error: {} (see `{} --help`)\n", one_line(e.what()), where);
  });
  CommandContext context{out, err, tty, 0};
  add_cpu_options(app);
  for (CommandAdder add : commands) add(app, context);

  // CLI11 would call an unknown command word a missing subcommand; say what it is instead.
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known += (known.empty() ? "" : ", ") + sub->get_name();
      found = found || sub->check_name(args[0]);
    }
    if (!found) {
      err << fmt::format("error: unknown command '{}' (commands: {}; see `rtseg --help`)\n",
                         args[0], known);
      return 1;
    }
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  } catch (const std::bad_alloc&) {
    err << "error: out of memory: the sizes asked for (image, batch or net input) do not fit this "
           "machine\n"
        << std::flush;
    return 1;
  } catch (const std::exception& e) {
    // rtseg::Error and anything else a command throws: one line, never a crash.
    err << "error: " << one_line(e.what()) << "\n" << std::flush;
    return 1;
  }
  return context.status;
}

std::string shell_word(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string("-_./=:,+@%").find(c) != std::string::npos;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CLI::Validator at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size())
          return fmt::format("expected a number, got '{}'", text);
        if (!(v >= lo)) return fmt::format("must be >= {}, got {}", lo, text);
        return "";
      },
      fmt::format(">= {}", lo));
}

}  // namespace rtseg::app
