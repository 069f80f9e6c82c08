#include "kernels/cuda/runtime/allocator.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"

namespace rtseg::cuda {

namespace {

constexpr size_t kSmallGranule = 512;        // keeps every block 512-byte aligned
constexpr size_t kLargeThreshold = 1 << 20;  // above 1 MiB ...
constexpr size_t kLargeGranule = 2 << 20;    // ... round to 2 MiB so sizes repeat
constexpr size_t kGuardBytes = 512;          // debug mode: sentinel region after a block
constexpr unsigned char kPoisonByte = 0xFF;  // NaN in float32 and float64
constexpr unsigned char kGuardByte = 0xA5;

size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t g = bytes > kLargeThreshold ? kLargeGranule : kSmallGranule;
  return (bytes + g - 1) / g * g;
}

struct Block {
  size_t size = 0;        // bytes held, guard included
  bool guarded = false;   // allocated in debug mode: the last kGuardBytes are the guard
  bool reported = false;  // a guard violation was already counted
};

struct DevicePool {
  std::multimap<size_t, void*> free_blocks;  // size -> block (caching mode)
  std::unordered_map<void*, Block> live;
  MemoryStats stats;
};

bool g_debug_checks = false;
int64_t g_guard_violations = 0;

class Pools {
 public:
  DevicePool& pool(int device) { return pools_[device]; }
  std::map<int, DevicePool>& all() { return pools_; }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::map<int, DevicePool> pools_;
};

// Never destroyed: tensors released during static destruction must still find their pool.
Pools& pools() {
  static Pools* p = new Pools();
  return *p;
}

void free_cached(DevicePool& pool, int device) {
  DeviceGuard guard(device);
  for (auto& [size, ptr] : pool.free_blocks) {
    cudaFree(ptr);
    pool.stats.reserved -= size;
  }
  pool.free_blocks.clear();
}

// Whether the guard region of a live block still holds the sentinel (synchronises the stream).
bool guard_intact(void* ptr, const Block& b, int device) {
  unsigned char guard[kGuardBytes];
  cudaStream_t stream = context(device).stream();
  const char* tail = static_cast<const char*>(ptr) + b.size - kGuardBytes;
  if (cudaMemcpyAsync(guard, tail, kGuardBytes, cudaMemcpyDeviceToHost, stream) != cudaSuccess ||
      cudaStreamSynchronize(stream) != cudaSuccess) {
    cudaGetLastError();
    return true;  // the device failed: that error is reported by the op that syncs next
  }
  for (unsigned char v : guard) {
    if (v != kGuardByte) return false;
  }
  return true;
}

void* device_malloc(DevicePool& pool, size_t size, size_t asked, int device) {
  DeviceGuard guard(device);
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    free_cached(pool, device);  // give the cache back and try once more
    status = cudaMalloc(&ptr, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail(
        "out of memory on cuda:{}: asked for {} bytes ({:.1f} MiB); {:.1f} MiB free of {:.1f} MiB, "
        "{:.1f} MiB held by live tensors",
        device, asked, asked / 1048576.0, free_bytes / 1048576.0, total_bytes / 1048576.0,
        pool.stats.allocated / 1048576.0);
  }
  check(status, "cudaMalloc");
  pool.stats.reserved += size;
  return ptr;
}

}  // namespace

bool caching_enabled() {
#ifdef RTSEG_CUDA_EMULATION
  return false;
#else
  static const bool on = [] {
    const char* v = std::getenv("RTSEG_CUDA_NO_CACHING");
    return !(v && std::strcmp(v, "1") == 0);
  }();
  return on;
#endif
}

void* allocate(size_t bytes, int device) {
  const bool caching = caching_enabled();
  std::lock_guard<std::mutex> lock(pools().mutex());
  const bool guarded = g_debug_checks;
  const size_t size = (caching ? round_size(bytes) : bytes) + (guarded ? kGuardBytes : 0);
  if (size == 0) return nullptr;  // pass-through: nothing to hold for an empty tensor
  DevicePool& pool = pools().pool(device);
  void* ptr = nullptr;
  auto it = caching ? pool.free_blocks.find(size) : pool.free_blocks.end();
  if (it != pool.free_blocks.end()) {
    ptr = it->second;
    pool.free_blocks.erase(it);
  } else {
    ptr = device_malloc(pool, size, bytes, device);
  }
  pool.live[ptr] = Block{size, guarded, false};
  pool.stats.allocated += size;
  pool.stats.peak_allocated = std::max(pool.stats.peak_allocated, pool.stats.allocated);
  if (guarded) {
    cudaStream_t stream = context(device).stream();
    check(cudaMemsetAsync(ptr, kPoisonByte, size - kGuardBytes, stream), "poisoning a block");
    check(cudaMemsetAsync(static_cast<char*>(ptr) + size - kGuardBytes, kGuardByte, kGuardBytes,
                          stream),
          "writing a guard region");
  }
  return ptr;
}

void release(void* ptr, int device) noexcept {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(pools().mutex());
  DevicePool& pool = pools().pool(device);
  auto it = pool.live.find(ptr);
  if (it == pool.live.end()) return;  // not ours: nothing sensible to do in a destructor
  const Block b = it->second;
  if (b.guarded && !b.reported && !guard_intact(ptr, b, device)) ++g_guard_violations;
  pool.stats.allocated -= b.size;
  pool.live.erase(it);
  if (caching_enabled()) {
    pool.free_blocks.emplace(b.size, ptr);
  } else {
    DeviceGuard guard(device);
    cudaFree(ptr);  // synchronises the device, so queued work using the block has finished
    pool.stats.reserved -= b.size;
  }
}

void set_debug_checks(bool on) {
  std::lock_guard<std::mutex> lock(pools().mutex());
  g_debug_checks = on;
}

int64_t take_guard_violations() {
  std::lock_guard<std::mutex> lock(pools().mutex());
  for (auto& [device, pool] : pools().all()) {
    for (auto& [ptr, b] : pool.live) {
      if (b.guarded && !b.reported && !guard_intact(ptr, b, device)) {
        b.reported = true;
        ++g_guard_violations;
      }
    }
  }
  const int64_t v = g_guard_violations;
  g_guard_violations = 0;
  return v;
}

void empty_cache(int device) {
  std::lock_guard<std::mutex> lock(pools().mutex());
  free_cached(pools().pool(device), device);
}

MemoryStats memory_stats(int device) {
  std::lock_guard<std::mutex> lock(pools().mutex());
  return pools().pool(device).stats;
}

void reset_peak(int device) {
  std::lock_guard<std::mutex> lock(pools().mutex());
  DevicePool& pool = pools().pool(device);
  pool.stats.peak_allocated = pool.stats.allocated;
}

}  // namespace rtseg::cuda
