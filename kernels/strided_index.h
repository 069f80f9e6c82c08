// Shapes and strides packed into a fixed-size struct that can be passed by value to a CUDA
// kernel (and used by host code alike). Ranks above kMaxDims are rejected by the ops.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/host_device.h"

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

// Offset of linear (row-major) element `linear` of `s.size` under `s.stride` (host and device).
RTSEG_HOST_DEVICE inline int64_t strided_offset(const StridedShape& s, int64_t linear) {
  int64_t offset = 0;
  for (int d = s.rank - 1; d >= 0; --d) {
    const int64_t idx = linear % s.size[d];
    linear /= s.size[d];
    offset += idx * s.stride[d];
  }
  return offset;
}

}  // namespace rtseg
