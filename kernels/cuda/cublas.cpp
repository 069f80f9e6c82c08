#include "kernels/cuda/cublas.h"

#include <climits>

#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"

namespace rtseg::cuda {

// ---- GEMM
//
// cuBLAS is column-major. A row-major r×c array with row length ld is, read column-major, the
// c×r matrix (its transpose) with leading dimension ld. So the row-major product C = op(A)·op(B)
// is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, transpose flags kept,
// and m and n swapped.

namespace {

cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const float* alpha, const float* a, int lda, const float* b,
                         int ldb, const float* beta, float* c, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const double* alpha, const double* a, int lda, const double* b,
                         int ldb, const double* beta, double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

template <typename T>
void gemm(const char* op, int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          const T* a, const T* b, T* c, bool accumulate) {
  RTSEG_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX,
              "{}: a {}×{} by {}×{} product exceeds cuBLAS's 32-bit sizes", op, m, k, k, n);
  if (m == 0 || n == 0) return;
  Context& ctx = context(device);
  DeviceGuard guard(device);
  if (k == 0) {  // an empty sum: C = 0 (or unchanged)
    if (!accumulate) {
      check(cudaMemsetAsync(c, 0, static_cast<size_t>(m * n) * sizeof(T), ctx.stream()), op);
    }
    return;
  }
  const T alpha = T(1), beta = accumulate ? T(1) : T(0);
  const int lda = static_cast<int>(trans_a ? m : k);  // row length of A as stored
  const int ldb = static_cast<int>(trans_b ? k : n);
  check(gemm_call(ctx.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                  static_cast<int>(k), &alpha, b, ldb, a, lda, &beta, c, static_cast<int>(n)),
        op);
}

template void gemm<float>(const char*, int, bool, bool, int64_t, int64_t, int64_t, const float*,
                          const float*, float*, bool);
template void gemm<double>(const char*, int, bool, bool, int64_t, int64_t, int64_t, const double*,
                           const double*, double*, bool);

}  // namespace rtseg::cuda
