#include "core/cuda/allocator.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/cuda/check.h"
#include "core/cuda/context.h"

namespace rtseg::cuda {

namespace {

constexpr size_t kSmallGranule = 512;              // keeps every block 512-byte aligned
constexpr size_t kLargeThreshold = 1 << 20;        // above 1 MiB ...
constexpr size_t kLargeGranule = 2 << 20;          // ... round to 2 MiB so sizes repeat
constexpr size_t kGuardBytes = 512;                // debug mode: sentinel region after a block
constexpr unsigned char kPoisonByte = 0xFF;        // NaN in float32 and float64
constexpr unsigned char kGuardByte = 0xA5;

size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t g = bytes > kLargeThreshold ? kLargeGranule : kSmallGranule;
  return (bytes + g - 1) / g * g;
}

struct DevicePool {
  std::multimap<size_t, void*> free_blocks;   // rounded size -> block
  std::unordered_map<void*, size_t> live;     // block -> rounded size
  MemoryStats stats;
};

bool g_debug_checks = false;
int64_t g_guard_violations = 0;

class Pools {
 public:
  DevicePool& pool(int device) { return pools_[device]; }
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

}  // namespace

void* allocate(size_t bytes, int device) {
  const size_t size = round_size(bytes) + (g_debug_checks ? kGuardBytes : 0);
  std::lock_guard<std::mutex> lock(pools().mutex());
  DevicePool& pool = pools().pool(device);
  void* ptr = nullptr;
  auto it = pool.free_blocks.find(size);
  if (it != pool.free_blocks.end()) {
    ptr = it->second;
    pool.free_blocks.erase(it);
  } else {
    DeviceGuard guard(device);
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
      fail("out of memory on cuda:{}: asked for {} bytes ({:.1f} MiB); {:.1f} MiB free of {:.1f} MiB, "
           "{:.1f} MiB held by live tensors",
           device, bytes, bytes / 1048576.0, free_bytes / 1048576.0, total_bytes / 1048576.0,
           pool.stats.allocated / 1048576.0);
    }
    check(status, "cudaMalloc");
    pool.stats.reserved += size;
  }
  pool.live[ptr] = size;
  pool.stats.allocated += size;
  pool.stats.peak_allocated = std::max(pool.stats.peak_allocated, pool.stats.allocated);
  if (g_debug_checks) {
    cudaStream_t stream = context(device).stream();
    check(cudaMemsetAsync(ptr, kPoisonByte, size - kGuardBytes, stream), "poisoning a block");
    check(cudaMemsetAsync(static_cast<char*>(ptr) + size - kGuardBytes, kGuardByte, kGuardBytes, stream),
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
  if (g_debug_checks && it->second >= kGuardBytes) {
    unsigned char guard[kGuardBytes];
    cudaStream_t stream = context(device).stream();
    const char* tail = static_cast<const char*>(ptr) + it->second - kGuardBytes;
    if (cudaMemcpyAsync(guard, tail, kGuardBytes, cudaMemcpyDeviceToHost, stream) == cudaSuccess &&
        cudaStreamSynchronize(stream) == cudaSuccess) {
      for (unsigned char b : guard) {
        if (b != kGuardByte) {
          ++g_guard_violations;
          break;
        }
      }
    }
  }
  pool.stats.allocated -= it->second;
  pool.free_blocks.emplace(it->second, ptr);
  pool.live.erase(it);
}

void set_debug_checks(bool on) {
  std::lock_guard<std::mutex> lock(pools().mutex());
  g_debug_checks = on;
}

int64_t take_guard_violations() {
  std::lock_guard<std::mutex> lock(pools().mutex());
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
