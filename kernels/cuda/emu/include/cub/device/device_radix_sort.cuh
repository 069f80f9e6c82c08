// The emulated cub::DeviceRadixSort::SortKeys (the one CUB algorithm rtseg uses): CUB's size
// query and call protocol, run on the emulated device inside the caller's temp storage, so a
// workspace smaller than the size query returned is an AddressSanitizer error, as it would be a
// memory fault on a GPU. Implemented by kernels/cuda/emu/cub_radix_sort.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../cuda_runtime.h"

namespace rtseg::emu {

enum class SortKey { F32, F64, I32, U32, I64, U64 };

// temp == nullptr: sets temp_bytes to what the sort needs. Otherwise queues the sort on `stream`.
cudaError_t radix_sort_keys(void* temp, size_t& temp_bytes, const void* in, void* out, int64_t n,
                            SortKey key, int begin_bit, int end_bit, cudaStream_t stream);

template <typename T>
constexpr SortKey sort_key_of();
template <>
constexpr SortKey sort_key_of<float>() {
  return SortKey::F32;
}
template <>
constexpr SortKey sort_key_of<double>() {
  return SortKey::F64;
}
template <>
constexpr SortKey sort_key_of<int32_t>() {
  return SortKey::I32;
}
template <>
constexpr SortKey sort_key_of<uint32_t>() {
  return SortKey::U32;
}
template <>
constexpr SortKey sort_key_of<int64_t>() {
  return SortKey::I64;
}
template <>
constexpr SortKey sort_key_of<uint64_t>() {
  return SortKey::U64;
}

}  // namespace rtseg::emu

namespace cub {

struct DeviceRadixSort {
  template <typename KeyT, typename NumItemsT>
  static cudaError_t SortKeys(void* d_temp_storage, size_t& temp_storage_bytes,
                              const KeyT* d_keys_in, KeyT* d_keys_out, NumItemsT num_items,
                              int begin_bit = 0, int end_bit = sizeof(KeyT) * 8,
                              cudaStream_t stream = 0) {
    return rtseg::emu::radix_sort_keys(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out,
                                       static_cast<int64_t>(num_items),
                                       rtseg::emu::sort_key_of<KeyT>(), begin_bit, end_bit, stream);
  }
};

}  // namespace cub
