#include "core/host_allocator.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "kernels/error.h"

namespace rtseg {

namespace {

constexpr size_t kAlignment = 64;  // one cache line; also what AVX-512 loads like
// Smaller blocks come from malloc's own bins, which already reuse memory without page faults.
constexpr size_t kCachedFrom = size_t{64} << 10;
constexpr size_t kPage = size_t{4} << 10;

size_t cache_limit() {
  if (const char* env = std::getenv("RTSEG_HOST_CACHE_MB"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(env, &end, 10);
    if (*end == '\0') return static_cast<size_t>(mb) << 20;
  }
  return size_t{2} << 30;
}

bool initial_poison() {
  const char* env = std::getenv("RTSEG_POISON_HOST");
  return env != nullptr && std::strcmp(env, "1") == 0;
}

struct HostCache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;  // by rounded size
  HostCacheStats stats;
  size_t limit = cache_limit();
  bool poison = initial_poison();

  ~HostCache() { release_all(); }
  void release_all() {
    for (auto& [size, ptr] : free_blocks) std::free(ptr);
    free_blocks.clear();
    stats.cached_bytes = 0;
  }
};

HostCache& cache() {
  static HostCache c;
  return c;
}

size_t rounded_size(size_t bytes) {
  if (bytes == 0) return kAlignment;
  const size_t unit = bytes >= kCachedFrom ? kPage : kAlignment;
  return (bytes + unit - 1) / unit * unit;
}

}  // namespace

void* host_allocate(size_t bytes) {
  const size_t size = rounded_size(bytes);
  HostCache& c = cache();
  void* ptr = nullptr;
  bool poison = false;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    poison = c.poison;
    if (size >= kCachedFrom) {
      auto it = c.free_blocks.find(size);
      if (it != c.free_blocks.end()) {
        ptr = it->second;
        c.free_blocks.erase(it);
        c.stats.cached_bytes -= size;
        ++c.stats.hits;
      } else {
        ++c.stats.misses;
      }
    }
  }
  if (ptr == nullptr) {
    ptr = std::aligned_alloc(kAlignment, size);
    RTSEG_CHECK(ptr != nullptr, "out of host memory: asked for {} bytes", bytes);
  }
  if (poison) std::memset(ptr, 0xFF, size);
  return ptr;
}

void host_release(void* ptr, size_t bytes) noexcept {
  if (ptr == nullptr) return;
  const size_t size = rounded_size(bytes);
  if (size >= kCachedFrom) {
    HostCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.stats.cached_bytes + size <= c.limit) {
      c.free_blocks.emplace(size, ptr);
      c.stats.cached_bytes += size;
      return;
    }
  }
  std::free(ptr);
}

void set_host_poison(bool on) {
  std::lock_guard<std::mutex> lock(cache().mutex);
  cache().poison = on;
}

bool host_poison() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  return cache().poison;
}

HostCacheStats host_cache_stats() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  return cache().stats;
}

void host_empty_cache() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  cache().release_all();
}

}  // namespace rtseg
