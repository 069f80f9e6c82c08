// The runner every parity executable shares: Catch2's implementation compiled once (it is most of
// a parity test's compile time). Exits 77 (CTest: skipped) when the executable's reference file
// is absent.
#define CATCH_CONFIG_RUNNER
#include <cstdio>

#include "parity_support.h"

int main(int argc, char** argv) {
  const std::string path = rtseg::parity::reference_path(rtseg::parity::reference_file);
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return Catch::Session().run(argc, argv);
  }
  std::printf(
      "skipped: %s not found (PyTorch reference files are made at test time when a python3 "
      "with torch was found at configure time)\n",
      path.c_str());
  return 77;
}
