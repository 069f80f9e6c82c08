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

// out = Op::forward(x, param) over n contiguous elements (Op: kernels/unary_element.h).
template <typename Op, typename T>
void unary(T param, T* out, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = Op::forward(x[i], param);
}

// grad_in = Op::backward(x, y, grad_out, param); x or y may be null where Op does not read it.
template <typename Op, typename T>
void unary_backward(T param, T* grad_in, const T* x, const T* y, const T* grad_out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    grad_in[i] = Op::backward(Op::kReadsInput ? x[i] : T(0), Op::kReadsOutput ? y[i] : T(0),
                              grad_out[i], param);
  }
}

}  // namespace rtseg::cpu
