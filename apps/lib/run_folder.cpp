#include "apps/lib/run_folder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "apps/lib/cli.h"
#include "kernels/error.h"

namespace fs = std::filesystem;

namespace rtseg::app {

namespace {

const char* const kRunFiles[] = {"config.yaml",   "last.safetensors", "best.safetensors",
                                 "train_log.csv", "val_log.csv",      "curves.png",
                                 "metrics.json"};
constexpr const char* kEventsPrefix = "events.out.tfevents.";

bool is_run_file(const std::string& name) {
  return std::find(std::begin(kRunFiles), std::end(kRunFiles), name) != std::end(kRunFiles) ||
         name.rfind(kEventsPrefix, 0) == 0;
}

}  // namespace

std::vector<std::string> run_files_in(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && is_run_file(name)) found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

void prepare_new_run_folder(const std::string& dir, bool overwrite,
                            const std::string& continue_command) {
  const std::vector<std::string> found = run_files_in(dir);
  if (found.empty()) return;
  if (!overwrite) {
    // Only the files that make it a run, to keep the message one line.
    std::vector<std::string> named;
    for (const std::string& f : found) {
      if (f == "last.safetensors" || f == "best.safetensors" || f == "train_log.csv")
        named.push_back(f);
    }
    if (named.empty()) named = found;
    throw Error(
        fmt::format("train: {} already holds a run ({}); continue it with `{}`, replace it with "
                    "--overwrite, or choose another folder with -o",
                    dir, fmt::join(named, ", "), continue_command));
  }
  for (const std::string& f : found) {
    std::error_code ec;
    fs::remove(fs::path(dir) / f, ec);
    RTSEG_CHECK(!ec, "train --overwrite: cannot remove {}: {}", (fs::path(dir) / f).string(),
                ec.message());
  }
}

void require_writable_folder(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  RTSEG_CHECK(!ec, "{}: cannot create the folder {}: {}", what, dir, ec.message());
  const fs::path probe = fs::path(dir) / ".rtseg_write_test";
  {
    std::ofstream out(probe, std::ios::binary);
    out << "x";
    out.flush();
    RTSEG_CHECK(out.good(), "{}: the folder {} is not writable", what, dir);
  }
  fs::remove(probe, ec);
}

std::string resume_command(const std::string& config, const std::vector<std::string>& settings,
                           const std::string& dir) {
  std::string command = "rtseg train --config " + shell_word(config);
  for (const std::string& s : settings) command += " " + shell_word(s);
  return command + " -o " + shell_word(dir) + " --resume";
}

}  // namespace rtseg::app
