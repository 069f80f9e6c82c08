// Runner for GPU tests: exits 77 (CTest's SKIP_RETURN_CODE) with the reason when no GPU can be
// used, so the suite stays green on machines without one. The CPU side of every comparison is
// the reference backend, the oracle (the fast CPU backend is compared with it in
// tests/test_cpu_fast.cpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>

#include "core/backend.h"
#include "core/cuda_runtime.h"
#include "core/host_allocator.h"

int main(int argc, char** argv) {
  setenv("RTSEG_POISON_HOST", "1", 1);  // as in tests/catch_main.cpp
  rtseg::set_host_poison(true);
  rtseg::set_cpu_backend(rtseg::Backend::CpuReference);
  const rtseg::CudaAvailability& cuda = rtseg::cuda_availability();
  if (cuda.device_count == 0) {
    std::printf("skipped: %s\n", cuda.reason.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
