#include "core/backend.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/kernel_dispatch.h"
#include "kernels/error.h"
#ifdef RTSEG_HAVE_CPU_FAST
#include "kernels/cpu_fast/isa.h"
#include "kernels/cpu_fast/thread_pool.h"
#endif

namespace rtseg {

namespace {

Backend initial_cpu_backend() {
  const char* env = std::getenv("RTSEG_CPU_BACKEND");
  const std::string choice = env ? env : "";
  if (choice.empty()) return cpu_fast_available() ? Backend::CpuFast : Backend::CpuReference;
  if (choice == "reference") return Backend::CpuReference;
  RTSEG_CHECK(choice == "fast", "RTSEG_CPU_BACKEND must be 'reference' or 'fast', got '{}'",
              choice);
  RTSEG_CHECK(cpu_fast_available(),
              "RTSEG_CPU_BACKEND=fast: this rtseg was built without the fast CPU backend "
              "(oneDNN was not found at configure time)");
  return Backend::CpuFast;
}

std::atomic<Backend>& cpu_backend_slot() {
  static std::atomic<Backend> slot{initial_cpu_backend()};
  return slot;
}

}  // namespace

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::CpuReference:
      return "cpu-reference";
    case Backend::CpuFast:
      return "cpu-fast";
    case Backend::Cuda:
      return "cuda";
  }
  return "?";
}

bool cpu_fast_available() {
#ifdef RTSEG_HAVE_CPU_FAST
  return true;
#else
  return false;
#endif
}

Backend cpu_backend() { return cpu_backend_slot().load(std::memory_order_relaxed); }

void set_cpu_backend(Backend b) {
  RTSEG_CHECK(b != Backend::Cuda, "set_cpu_backend: {} is not a CPU backend", backend_name(b));
  RTSEG_CHECK(b != Backend::CpuFast || cpu_fast_available(),
              "the fast CPU backend is not built into this rtseg (oneDNN was not found at "
              "configure time)");
  cpu_backend_slot().store(b, std::memory_order_relaxed);
}

cpu::Exec cpu_exec(Backend backend) {
  cpu::Exec exec;
#ifdef RTSEG_HAVE_CPU_FAST
  if (backend == Backend::CpuFast) exec.parallel = &cpu_fast::parallel_ranges;
#endif
  (void)backend;
  return exec;
}

int cpu_threads() {
#ifdef RTSEG_HAVE_CPU_FAST
  return cpu_fast::num_threads();
#else
  return 1;
#endif
}

void set_cpu_threads(int n) {
#ifdef RTSEG_HAVE_CPU_FAST
  cpu_fast::set_num_threads(n);
#else
  RTSEG_CHECK(n >= 1, "threads: must be at least 1, got {}", n);
#endif
}

const char* cpu_isa() {
#ifdef RTSEG_HAVE_CPU_FAST
  return cpu_fast::isa_name();
#else
  return "x86-64 (baseline, reference kernels)";
#endif
}

}  // namespace rtseg
