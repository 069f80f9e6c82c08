// The execution context a CPU kernel entry point takes as its first argument; its CUDA twin
// takes cuda::Exec (kernels/cuda/exec.h) and otherwise the same arguments, so that an op calls
// either in one body (core/kernel_dispatch.h). Entry points never allocate tensors: what they
// write is passed in.
#pragma once

#include <cstdint>
#include <functional>

namespace rtseg::cpu {

struct Exec {
  using Ranges = std::function<void(int64_t begin, int64_t end)>;
  // Runs body(begin, end) over chunks of [0, n) cut by n and grain alone, in parallel: the fast
  // backend's pool. Null (the reference backend): one call over all of it. A kernel splits only
  // independent items (planes, channels) this way, so its results never depend on it.
  void (*parallel)(int64_t n, int64_t grain, const Ranges& body) = nullptr;

  void for_ranges(int64_t n, int64_t grain, const Ranges& body) const {
    if (n <= 0) return;
    if (parallel != nullptr) {
      parallel(n, grain, body);
    } else {
      body(0, n);
    }
  }
};

// Chunks of about 32k values of work each: large enough that a task outweighs its dispatch.
inline int64_t grain_for(int64_t values_per_item) {
  const int64_t per_item = values_per_item < 1 ? 1 : values_per_item;
  const int64_t grain = (int64_t{1} << 15) / per_item;
  return grain < 1 ? 1 : grain;
}

}  // namespace rtseg::cpu
