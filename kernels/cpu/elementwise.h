// Elementwise loops over broadcast operands. A broadcast operand is described by strides that
// are 0 along the dimensions it is stretched over, so one odometer loop serves every case.
#pragma once

#include <cstdint>
#include <vector>

namespace rtseg::cpu {

// out[i] = f(a[ia], b[ib]) over `shape`, where ia/ib follow a_strides/b_strides.
template <typename T, typename F>
void broadcast_binary(T* out, const T* a, const T* b, const std::vector<int64_t>& shape,
                      const std::vector<int64_t>& a_strides, const std::vector<int64_t>& b_strides,
                      F f) {
  const size_t rank = shape.size();
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (total == 0) return;
  std::vector<int64_t> index(rank, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < total; ++i) {
    out[i] = f(a[ia], b[ib]);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        ia += a_strides[d];
        ib += b_strides[d];
        break;
      }
      ia -= a_strides[d] * (shape[d] - 1);
      ib -= b_strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

// dst[id] += src[i] over src's `shape`, where id follows dst_strides (0 along summed dims).
template <typename T>
void accumulate_broadcast(T* dst, const T* src, const std::vector<int64_t>& shape,
                          const std::vector<int64_t>& dst_strides) {
  const size_t rank = shape.size();
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (total == 0) return;
  std::vector<int64_t> index(rank, 0);
  int64_t id = 0;
  for (int64_t i = 0; i < total; ++i) {
    dst[id] += src[i];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        id += dst_strides[d];
        break;
      }
      id -= dst_strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

template <typename T, typename F>
void unary(T* out, const T* x, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

// grad_in[i] = f(x[i], y[i], grad_out[i]): the shape of every pointwise backward.
template <typename T, typename F>
void unary_backward(T* grad_in, const T* x, const T* y, const T* grad_out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) grad_in[i] = f(x[i], y[i], grad_out[i]);
}

}  // namespace rtseg::cpu
