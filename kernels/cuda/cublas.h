// Every cuBLAS call of rtseg, organised by op. Matrices are row-major and contiguous; the calls
// run on the stream of `device`'s context, whose cuBLAS handle carries the math mode (TF32 tensor
// cores for float32 only when the context's tf32() is on; see kernels/cuda/runtime/context.h).
#pragma once

#include <cstdint>

namespace rtseg::cuda {

// ---- GEMM (matmul, linear, forward and backward)

// C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`. C is m×n; op(A) is m×k, stored as an m×k
// array (row length k) or, when trans_a, as a k×m array (row length m) read transposed; likewise
// op(B) is k×n, stored k×n or, when trans_b, n×k. Float uses cublasSgemm, double cublasDgemm.
// Errors name `op`.
template <typename T>
void gemm(const char* op, int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          const T* a, const T* b, T* c, bool accumulate = false);

}  // namespace rtseg::cuda
