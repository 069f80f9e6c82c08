// Shapes and strides packed into a fixed-size struct that can be passed by value to a CUDA
// kernel (and used by host code alike). Ranks above kMaxDims are rejected by the ops.
#pragma once

#include <cstdint>
#include <vector>

namespace rtseg {

constexpr int kMaxDims = 8;

struct StridedShape {
  int rank = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[kMaxDims] = {};
};

inline StridedShape make_strided_shape(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& strides) {
  StridedShape s;
  s.rank = static_cast<int>(shape.size());
  for (int i = 0; i < s.rank && i < kMaxDims; ++i) {
    s.size[i] = shape[i];
    s.stride[i] = strides[i];
  }
  return s;
}

}  // namespace rtseg
