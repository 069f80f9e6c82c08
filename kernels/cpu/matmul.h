// Reference dense matrix products on the CPU. One kernel serves every transpose combination the
// forward and backward passes need: each operand is read through (row stride, column stride),
// so aᵀ is just a with its strides swapped. Dot products accumulate in double, so float32
// results do not depend on summation order beyond the final rounding.
#pragma once

#include <cstdint>

namespace rtseg::cpu {

// A read-only view of a matrix: element (i, j) is data[i·row_stride + j·col_stride].
template <typename T>
struct MatrixView {
  const T* data;
  int64_t row_stride;
  int64_t col_stride;
  T operator()(int64_t i, int64_t j) const { return data[i * row_stride + j * col_stride]; }
};

// Row-major m×n array `rows` (row stride n) as a view, optionally transposed.
template <typename T>
MatrixView<T> row_major(const T* rows, int64_t n, bool transposed = false) {
  return transposed ? MatrixView<T>{rows, 1, n} : MatrixView<T>{rows, n, 1};
}

// c[i, j] = Σ_p a(i, p) · b(p, j) for an m×k view a and a k×n view b; c is a contiguous m×n
// array and is overwritten.
template <typename T>
void gemm(T* c, MatrixView<T> a, MatrixView<T> b, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < k; ++p)
        acc += static_cast<double>(a(i, p)) * static_cast<double>(b(p, j));
      c[i * n + j] = static_cast<T>(acc);
    }
  }
}

// y[i, j] += bias[j] for a contiguous m×n array y.
template <typename T>
void add_row_bias(T* y, const T* bias, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
  }
}

// db[j] = Σ_i dy[i, j] for a contiguous m×n array dy (the gradient of add_row_bias).
template <typename T>
void sum_rows(T* db, const T* dy, int64_t m, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double acc = 0.0;
    for (int64_t i = 0; i < m; ++i) acc += static_cast<double>(dy[i * n + j]);
    db[j] = static_cast<T>(acc);
  }
}

}  // namespace rtseg::cpu
