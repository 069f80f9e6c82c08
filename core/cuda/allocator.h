// A caching device allocator: freed blocks go back to a per-device pool keyed by their rounded
// size and are handed out again without cudaMalloc/cudaFree (which synchronise the device and
// cost more than the kernels they feed). All work on a device runs on its one stream, so a block
// released by the host can be reused at once: the stream orders the old and new uses.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtseg::cuda {

struct MemoryStats {
  size_t allocated = 0;       // bytes in live tensors
  size_t peak_allocated = 0;  // high-water mark of `allocated` since the last reset
  size_t reserved = 0;        // bytes held from the driver (live + cached)
};

void* allocate(size_t bytes, int device);
void release(void* ptr, int device) noexcept;
// Returns every cached block to the driver.
void empty_cache(int device);
MemoryStats memory_stats(int device);
void reset_peak(int device);

// Test mode: every block handed out is filled with 0xFF bytes (NaN in float and double, so a
// kernel that leaves part of its output unwritten is caught), followed by a guard region of
// sentinel bytes that is checked when the block is released (catching writes past the end).
// Slow (it synchronises on each release); for tests only.
void set_debug_checks(bool on);
// Number of released blocks whose guard region had been overwritten since the last call.
int64_t take_guard_violations();

}  // namespace rtseg::cuda
