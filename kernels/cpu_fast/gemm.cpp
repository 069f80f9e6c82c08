#include "kernels/cpu_fast/gemm.h"

#include <dnnl.h>

#include <algorithm>

#include "kernels/cpu_fast/onednn_runtime.h"
#include "kernels/cpu_fast/thread_pool.h"
#include "kernels/error.h"

namespace rtseg::cpu_fast {

void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixRef a, MatrixRef b, float beta, float* c,
                 int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum: C = beta·C
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return;
  }
  onednn_single_threaded();
  const dnnl_status_t status = dnnl_sgemm(a.transposed ? 'T' : 'N', b.transposed ? 'T' : 'N', m, n,
                                          k, 1.0f, a.data, a.ld, b.data, b.ld, beta, c, ldc);
  RTSEG_CHECK(status == dnnl_success, "gemm: oneDNN sgemm failed (status {}) for {}x{}x{}",
              static_cast<int>(status), m, n, k);
}

int64_t gemm_column_grain(int64_t m, int64_t n, int64_t k) {
  const int64_t per_column = std::max<int64_t>(1, m * k);
  int64_t grain = std::max<int64_t>(64, (int64_t{1} << 19) / per_column);
  grain = (grain + 15) / 16 * 16;
  return std::min(grain, n);
}

void gemm(int64_t m, int64_t n, int64_t k, MatrixRef a, MatrixRef b, float beta, float* c,
          int64_t ldc) {
  const int64_t grain = gemm_column_grain(m, n, k);
  parallel_ranges(n, grain, [&](int64_t j0, int64_t j1) {
    // Columns j0..j1 of B: B[:, j0] is at j0 (row-major) or at row j0 (transposed).
    const MatrixRef bj{b.transposed ? b.data + j0 * b.ld : b.data + j0, b.ld, b.transposed};
    gemm_serial(m, j1 - j0, k, a, bj, beta, c + j0, ldc);
  });
}

}  // namespace rtseg::cpu_fast
