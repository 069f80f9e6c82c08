// Host memory for CPU tensors. Large blocks are cached after release and handed out again for
// the same size: a net's forward allocates the same activation sizes every iteration, and fresh
// pages from the OS cost a page fault each (measured: a third of a CPU forward of CIFReNet before
// the cache). Blocks are 64-byte aligned and not cleared: every op writes its outputs in full,
// exactly as on the GPU; Tensor::zeros clears. With poisoning on (tests), every block handed out
// is filled with 0xFF bytes — NaN in float32/float64 — so a kernel that reads an output it did not
// write fails its test instead of depending on leftover values.
#pragma once

#include <cstddef>

namespace rtseg {

void* host_allocate(size_t bytes);
void host_release(void* ptr, size_t bytes) noexcept;

// Poisoning of the blocks handed out (see above); RTSEG_POISON_HOST=1 at start-up sets it too.
void set_host_poison(bool on);
bool host_poison();

struct HostCacheStats {
  size_t cached_bytes = 0;  // released blocks kept for reuse
  size_t hits = 0, misses = 0;
};
HostCacheStats host_cache_stats();
// Returns every cached block to the system.
void host_empty_cache();

}  // namespace rtseg
