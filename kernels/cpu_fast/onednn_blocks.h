// What the fast backend's oneDNN convolutions by row blocks share (direct_conv.cpp for the
// forward, direct_conv_backward.cpp for the input gradient): a cache of primitives by block
// geometry, per-thread scratch, and the weights reordered once per call into each layout the
// blocks' primitives want.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu_fast/onednn_runtime.h"

namespace rtseg::cpu_fast {

inline int64_t blocks_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows per task when `rows` rows of `width` pixels are cut into blocks: about eight blocks per
// image, each of at least 256 pixels (the kernels keep their speed down to blocks of a few rows;
// smaller ones lose it in set-up).
inline int64_t rows_per_block(int64_t rows, int64_t width) {
  const int64_t by_count = blocks_ceil_div(rows, 8);
  const int64_t by_size = blocks_ceil_div(256, std::max<int64_t>(1, width));
  return std::min(rows, std::max(by_count, by_size));
}

// Whether oneDNN chose one of its JIT kernels (not its reference loops or its own im2col + GEMM,
// which rtseg's im2col path matches) for a primitive, by its implementation name.
inline bool is_direct_jit(const char* impl) {
  const std::string name = impl;
  return name.find("ref") == std::string::npos && name.find("gemm") == std::string::npos;
}

inline dnnl::reorder make_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  const dnnl::engine& engine = onednn_engine();
  return dnnl::reorder(dnnl::reorder::primitive_desc(engine, from, engine, to));
}

// The entry of `key`, made by create(key) the first time (null: the geometry is not served).
// Entries are never removed, so the pointers stay valid.
template <typename Entry, typename Key, typename Create>
const Entry* cached_block(const Key& key, const Create& create) {
  static std::mutex mutex;
  static std::map<Key, std::unique_ptr<Entry>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, create(key)).first;
  return it->second.get();
}

// Per-thread scratch buffer `which` (0..2) of at least `bytes`.
inline void* block_scratch(int which, size_t bytes) {
  thread_local std::vector<uint8_t> buffers[3];
  std::vector<uint8_t>& b = buffers[which];
  if (b.size() < bytes) b.resize(bytes);
  return b.data();
}

// OIHW weights reordered into each distinct layout asked for (in practice one per call).
class PackedWeights {
 public:
  PackedWeights(const float* oihw, const dnnl::memory::dims& dims) : oihw_(oihw), dims_(dims) {}

  // The weights in `layout`, reordered by `from_oihw` the first time it is asked for.
  const float* in(const dnnl::memory::desc& layout, const dnnl::reorder& from_oihw) {
    auto it = std::find_if(packs_.begin(), packs_.end(),
                           [&](const auto& p) { return p.first == layout; });
    if (it != packs_.end()) return it->second.data();
    packs_.emplace_back(layout, std::vector<float>(layout.get_size() / sizeof(float)));
    const dnnl::memory::desc plain(dims_, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::oihw);
    dnnl::memory from(plain, onednn_engine(), const_cast<float*>(oihw_));
    dnnl::memory to(layout, onednn_engine(), packs_.back().second.data());
    from_oihw.execute(onednn_thread_stream(), from, to);
    onednn_thread_stream().wait();
    return packs_.back().second.data();
  }

 private:
  const float* oihw_;
  dnnl::memory::dims dims_;
  std::vector<std::pair<dnnl::memory::desc, std::vector<float>>> packs_;
};

}  // namespace rtseg::cpu_fast
