// An LSD radix sort with 8-bit digits over [begin_bit, end_bit) of the keys' order-preserving
// unsigned form (CUB's bit twiddling: floats flip the sign bit, or every bit when negative;
// signed integers flip the sign bit), ping-ponging through the caller's temp storage:
// [alternate keys, n · key size, 256-aligned][digit histogram, 256 counts].
#include <cstring>
#include <string>

#include "cub/device/device_radix_sort.cuh"
#include "kernels/cuda/emu/runtime_state.h"

namespace rtseg::emu {

namespace {

constexpr size_t kAlign = 256;
constexpr int kDigitBits = 8;
constexpr int kDigits = 1 << kDigitBits;

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

size_t key_bytes(SortKey k) {
  return k == SortKey::F32 || k == SortKey::I32 || k == SortKey::U32 ? 4 : 8;
}

uint64_t load_ordered(const unsigned char* p, SortKey k) {
  if (key_bytes(k) == 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    if (k == SortKey::F32) v = (v & 0x80000000u) ? ~v : v | 0x80000000u;
    if (k == SortKey::I32) v ^= 0x80000000u;
    return v;
  }
  uint64_t v;
  std::memcpy(&v, p, 8);
  const uint64_t sign = uint64_t(1) << 63;
  if (k == SortKey::F64) v = (v & sign) ? ~v : v | sign;
  if (k == SortKey::I64) v ^= sign;
  return v;
}

size_t needed_bytes(int64_t n, SortKey k) {
  return align_up(static_cast<size_t>(n) * key_bytes(k)) + kDigits * sizeof(int64_t);
}

void sort(unsigned char* temp, const unsigned char* in, unsigned char* out, int64_t n, SortKey k,
          int begin_bit, int end_bit) {
  const size_t kb = key_bytes(k);
  unsigned char* alt = temp;
  auto* count = reinterpret_cast<int64_t*>(temp + align_up(static_cast<size_t>(n) * kb));
  std::memcpy(out, in, static_cast<size_t>(n) * kb);
  unsigned char* src = out;
  unsigned char* dst = alt;
  for (int bit = begin_bit; bit < end_bit; bit += kDigitBits) {
    const int width = end_bit - bit < kDigitBits ? end_bit - bit : kDigitBits;
    const uint64_t digit_mask = (uint64_t(1) << width) - 1;
    for (int d = 0; d < kDigits; ++d) count[d] = 0;
    for (int64_t i = 0; i < n; ++i) ++count[(load_ordered(src + i * kb, k) >> bit) & digit_mask];
    int64_t offset = 0;
    for (int d = 0; d < kDigits; ++d) {
      const int64_t c = count[d];
      count[d] = offset;
      offset += c;
    }
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t d = (load_ordered(src + i * kb, k) >> bit) & digit_mask;
      std::memcpy(dst + count[d]++ * kb, src + i * kb, kb);
    }
    std::swap(src, dst);
  }
  if (src != out) std::memcpy(out, src, static_cast<size_t>(n) * kb);
}

}  // namespace

cudaError_t radix_sort_keys(void* temp, size_t& temp_bytes, const void* in, void* out, int64_t n,
                            SortKey key, int begin_bit, int end_bit, cudaStream_t stream) {
  auto guard = lock();
  if (n < 0 || begin_bit < 0 || end_bit > static_cast<int>(key_bytes(key) * 8) ||
      begin_bit > end_bit) {
    return set_error(cudaErrorInvalidValue, "cub::DeviceRadixSort::SortKeys: bad bit range");
  }
  const size_t need = needed_bytes(n, key);
  if (temp == nullptr) {
    temp_bytes = need;  // the size query enqueues nothing
    return cudaSuccess;
  }
  if (temp_bytes < need) {  // CUB's own check of the size the caller says it has
    return set_error(cudaErrorInvalidValue, "SortKeys: temp storage of " +
                                                std::to_string(temp_bytes) + " bytes, need " +
                                                std::to_string(need));
  }
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "SortKeys: unknown stream");
  if (s->device != current_device()) {
    return set_error(cudaErrorInvalidResourceHandle, "SortKeys: a stream of another device");
  }
  if (const cudaError_t e = sticky_error(s->device); e != cudaSuccess) return set_error(e);
  if (n == 0) return cudaSuccess;
  const size_t kb = key_bytes(key);
  enqueue(s, [=] {
    if (!device_range(in, static_cast<size_t>(n) * kb) ||
        !device_range(out, static_cast<size_t>(n) * kb)) {
      throw KernelFault{"cub::DeviceRadixSort::SortKeys: keys outside device memory",
                        cudaErrorIllegalAddress};
    }
    // The temp storage is used up to `need` bytes: a buffer shorter than claimed is overrun here
    // as the real kernels would overrun it.
    sort(static_cast<unsigned char*>(temp), static_cast<const unsigned char*>(in),
         static_cast<unsigned char*>(out), n, key, begin_bit, end_bit);
  });
  return cudaSuccess;
}

}  // namespace rtseg::emu
