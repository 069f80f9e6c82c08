// Single-precision GEMM for the fast CPU backend: oneDNN's sgemm (JIT kernels for the CPU it runs
// on: AVX2, AVX-512, AMX), called single-threaded on tasks of the thread pool (thread_pool.h).
// Row-major, as the convolutions lay their matrices out.
#pragma once

#include <cstdint>

namespace rtseg::cpu_fast {

// One matrix operand: data, leading dimension (elements between rows as stored) and whether it is
// read transposed.
struct MatrixRef {
  const float* data;
  int64_t ld;
  bool transposed = false;
};

// C (m×n, leading dimension ldc) = A·B + beta·C on this thread alone; A is m×k, B is k×n after
// their transposes.
void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixRef a, MatrixRef b, float beta, float* c,
                 int64_t ldc);

// The same on the pool: C is cut into column blocks fixed by (m, n, k), so the bits do not depend
// on the thread count.
void gemm(int64_t m, int64_t n, int64_t k, MatrixRef a, MatrixRef b, float beta, float* c,
          int64_t ldc);

// Columns per task for a product of this size: enough work per task (≥ ~1 MFLOP) to hide the
// dispatch, whole cache lines. A function of the shape only.
int64_t gemm_column_grain(int64_t m, int64_t n, int64_t k);

}  // namespace rtseg::cpu_fast
