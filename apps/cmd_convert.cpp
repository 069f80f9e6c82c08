// rtseg convert IN OUT [--net NAME --classes N --variant V] [--key K] [--python P]
// A PyTorch checkpoint (.pth/.pt/.tar) becomes safetensors through tools/convert_checkpoint.py
// (dev-time Python with PyTorch); a safetensors input is validated and rewritten without Python.
// With --net the result is loaded into that net by name and the key report is printed.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "apps/commands.h"
#include "apps/lib/model.h"
#include "core/file_format.h"
#include "core/safetensors.h"
#include "kernels/error.h"

namespace fs = std::filesystem;

#ifndef RTSEG_TOOLS_DIR
#define RTSEG_TOOLS_DIR "tools"
#endif

namespace rtseg::app {

namespace {

struct ConvertArgs {
  std::string input, output, net, variant = "cityscapes", key, python = "python3";
  int64_t classes = 19;
};

// torch.save's formats go to the Python converter; anything else must be safetensors, and its
// own validation error says what is wrong (not an import error of a converter that cannot help).
bool is_pytorch_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> head(512);
  in.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  return looks_like_pytorch_checkpoint(head.data(), size_t(in.gcount()));
}

bool is_safetensors(const std::string& path) {
  try {
    SafetensorsFile::read(path);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string converter_script() {
  const char* env = std::getenv("RTSEG_TOOLS_DIR");
  const fs::path script = fs::path(env && *env ? env : RTSEG_TOOLS_DIR) / "convert_checkpoint.py";
  RTSEG_CHECK(fs::exists(script),
              "convert: the converter {} is missing (set RTSEG_TOOLS_DIR to rtseg's tools/)",
              script.string());
  return script.string();
}

void run_convert(const ConvertArgs& a, CommandContext& ctx) {
  RTSEG_CHECK(a.input != a.output, "convert: input and output are the same file {}", a.input);
  if (!is_pytorch_checkpoint(a.input)) {
    const SafetensorsFile file = SafetensorsFile::read(a.input);
    std::vector<std::pair<std::string, Tensor>> tensors;
    for (const std::string& name : file.names()) tensors.emplace_back(name, file.tensor(name));
    write_safetensors(a.output, tensors, file.metadata());
    ctx.out << fmt::format("{} is already safetensors: {} tensors validated and written to {}\n",
                           a.input, tensors.size(), a.output);
  } else {
    std::string command = shell_word(a.python) + " " + shell_word(converter_script()) + " " +
                          shell_word(a.input) + " " + shell_word(a.output);
    if (!a.key.empty()) command += " --key " + shell_word(a.key);
    ctx.out << "running: " << command << "\n" << std::flush;
    const int raw = std::system(command.c_str());
    const int code = raw == -1 ? -1 : WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    RTSEG_CHECK(code != 127, "convert: {} was not found (the converter needs python3 with PyTorch)",
                a.python);
    RTSEG_CHECK(code == 0, "convert: the converter failed with status {} (its message is above)",
                code);
    RTSEG_CHECK(is_safetensors(a.output),
                "convert: the converter wrote no valid safetensors file {}", a.output);
  }
  if (a.net.empty()) return;
  ModelSettings m;
  m.name = a.net;
  m.variant = a.variant;
  auto net = build_net(m, a.classes, "train", 0);
  const LoadReport report = load_weights(*net, a.output, /*strict=*/false);
  ctx.out << fmt::format("loading into {} ({} classes, {} variant, training graph): {}\n", a.net,
                         a.classes, a.variant, report.summary());
}

}  // namespace

void add_convert_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "PyTorch checkpoint -> safetensors (via tools/convert_checkpoint.py), with a key report");
  cmd->add_option("input", args->input, ".pth/.pt/.tar checkpoint (or safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("output", args->output, "safetensors file to write")->required();
  cmd->add_option("--net", args->net,
                  "load the result into this net and report loaded/missing/unexpected keys");
  cmd->add_option("--classes", args->classes, "classes of --net")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--variant", args->variant, "dataset-specific structure of --net")
      ->capture_default_str();
  cmd->add_option("--key", args->key, "entry of the checkpoint that holds the state_dict");
  cmd->add_option("--python", args->python, "python with PyTorch")->capture_default_str();
  cmd->callback([args, &context] { run_convert(*args, context); });
}

}  // namespace rtseg::app
