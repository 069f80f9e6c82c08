// Every CUDA kernel ran: the `__global__` functions found in kernels/cuda's sources (scanned, not
// a hand-kept list) against the kernels the emulated test programs launched, which each appended
// to RTSEG_EMU_COVERAGE (a "# program NAME" line, then "KERNEL_NAME COUNT" lines). Runs after
// the emu suite (a CTest fixture cleanup); when some programs of the suite did not run (a partial
// `ctest -R ...`), there is nothing to judge and it reports "skipped".
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> defined_kernels(const fs::path& dir) {
  const std::regex global(
      R"(__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?([A-Za-z_]\w*)\s*\()");
  std::map<std::string, std::string> kernels;  // name -> file
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cu" && ext != ".cuh" && ext != ".h") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), global), end; it != end; ++it) {
      kernels[(*it)[1].str()] = entry.path().filename().string();
    }
  }
  return kernels;
}

}  // namespace

TEST_CASE("every __global__ kernel of kernels/cuda was launched by the emu suite",
          "[emu][coverage]") {
  const char* report = std::getenv("RTSEG_EMU_COVERAGE_REPORT");
  const char* programs = std::getenv("RTSEG_EMU_COVERAGE_PROGRAMS");
  REQUIRE(report != nullptr);
  REQUIRE(programs != nullptr);
  std::map<std::string, long> launched;
  std::set<std::string> reported_programs;
  std::ifstream in(report);
  REQUIRE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string first, second;
    fields >> first >> second;
    if (first == "#") {
      fields >> second;
      std::string name;
      std::istringstream(line.substr(line.find("program") + 7)) >> name;
      reported_programs.insert(name);
    } else if (!first.empty()) {
      launched[first] += std::stol(second);
    }
  }
  std::set<std::string> missing_programs;
  std::istringstream expected(programs);
  for (std::string p; std::getline(expected, p, ';');) {
    if (!p.empty() && !reported_programs.count(p)) missing_programs.insert(p);
  }
  if (!missing_programs.empty()) {
    WARN("partial run, coverage not judged: " << *missing_programs.begin() << " and "
                                              << missing_programs.size() - 1
                                              << " more did not report");
    std::exit(77);
  }
  const auto kernels = defined_kernels(fs::path(RTSEG_SOURCE_DIR) / "kernels" / "cuda");
  REQUIRE(kernels.size() >= 50);  // the scan works (57 kernels when this test was written)
  std::string never;
  long total = 0;
  for (const auto& [name, file] : kernels) {
    if (!launched.count(name)) never += "\n  " + name + " (" + file + ")";
    total += launched.count(name) ? launched[name] : 0;
  }
  const auto unlaunched = static_cast<size_t>(std::count(never.begin(), never.end(), '\n'));
  std::printf("%zu kernels defined in kernels/cuda, %zu launched by the emu suite (%ld launches)\n",
              kernels.size(), kernels.size() - unlaunched, total);
  INFO("never launched:" << never);
  REQUIRE(never.empty());
}
