// The one translation unit that compiles Catch2's runner. Every test runs with host poisoning on
// (core/host_allocator.h): a kernel that leaves part of its output unwritten produces NaN and
// fails. The environment variable passes it on to the rtseg processes the app tests start.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/host_allocator.h"

int main(int argc, char** argv) {
  setenv("RTSEG_POISON_HOST", "1", 1);
  rtseg::set_host_poison(true);
  return Catch::Session().run(argc, argv);
}
