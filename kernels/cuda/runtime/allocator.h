// The device allocator. By default it caches: freed blocks go back to a per-device pool keyed by
// their rounded size and are handed out again without cudaMalloc/cudaFree (which synchronise the
// device and cost more than the kernels they feed). All work on a device runs on its one stream,
// so a block released by the host can be reused at once: the stream orders the old and new uses.
//
// Pass-through mode (RTSEG_CUDA_NO_CACHING=1, and always on the emulated device) allocates
// exactly the bytes asked for and frees them on release, so AddressSanitizer (emulation) and
// compute-sanitizer (a GPU) see every overrun and use after free that rounding and reuse hide.
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
// Whether freed blocks are kept for reuse (false in pass-through mode).
bool caching_enabled();

// A block of scratch memory on `device` for the lifetime of the object (a kernel's workspace);
// no bytes means no block.
class DeviceBuffer {
 public:
  DeviceBuffer(size_t bytes, int device)
      : ptr_(bytes ? allocate(bytes, device) : nullptr), device_(device) {}
  ~DeviceBuffer() {
    if (ptr_) release(ptr_, device_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return ptr_; }

 private:
  void* ptr_;
  int device_;
};

// Test mode: every block handed out is filled with 0xFF bytes (NaN in float and double, so a
// kernel that leaves part of its output unwritten is caught), followed by a guard region of
// sentinel bytes. Blocks allocated before the mode was switched on have no guard. Slow (it
// synchronises on each release); for tests only.
void set_debug_checks(bool on);
// Number of blocks whose guard region has been overwritten: those released since the last call
// and those still alive (each block counted once).
int64_t take_guard_violations();

}  // namespace rtseg::cuda
