// Copies between two strided views of the same shape, converting the element type. Broadcasts
// (source strides of 0) and transposes are strided copies too.
// Kernels know nothing of tensors: they take pointers, shapes and strides.
#pragma once

#include <cstdint>
#include <vector>

namespace rtseg::cpu {

template <typename Dst, typename Src>
void strided_copy(Dst* dst, const std::vector<int64_t>& dst_strides, const Src* src,
                  const std::vector<int64_t>& src_strides, const std::vector<int64_t>& shape) {
  const size_t rank = shape.size();
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (total == 0) return;
  std::vector<int64_t> index(rank, 0);
  int64_t is = 0, id = 0;
  for (int64_t i = 0; i < total; ++i) {
    dst[id] = static_cast<Dst>(src[is]);
    // Odometer increment of the multi-index, updating both offsets incrementally.
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        is += src_strides[d];
        id += dst_strides[d];
        break;
      }
      is -= src_strides[d] * (shape[d] - 1);
      id -= dst_strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace rtseg::cpu
