// cuBLAS GEMM on the emulated device: the argument checks cuBLAS documents for ?gemm (lda, ldb,
// ldc against the column-major shapes), then the product queued on the handle's stream and run
// as a plain column-major loop, summing over k in order in the element type.
#include <algorithm>
#include <set>
#include <string>

#include "cublas_v2.h"
#include "kernels/cuda/emu/runtime_state.h"

struct cublasContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

using namespace rtseg::emu;

namespace {

std::set<cublasHandle_t>& handles() {
  static auto* h = new std::set<cublasHandle_t>();
  return *h;
}

bool valid(cublasHandle_t h) { return h && handles().count(h) > 0; }

// Bytes spanned by a column-major rows×cols matrix with leading dimension ld.
size_t extent(int rows, int cols, int ld, size_t element) {
  if (rows == 0 || cols == 0) return 0;
  return (static_cast<size_t>(cols - 1) * static_cast<size_t>(ld) + static_cast<size_t>(rows)) *
         element;
}

template <typename T>
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const T* alpha, const T* A, int lda, const T* B, int ldb, const T* beta,
                    T* C, int ldc) {
  auto guard = lock();
  if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  const auto op_ok = [](cublasOperation_t op) {
    return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
  };
  // cuBLAS's documented conditions for CUBLAS_STATUS_INVALID_VALUE.
  if (m < 0 || n < 0 || k < 0 || !op_ok(ta) || !op_ok(tb) ||
      lda < std::max(1, ta == CUBLAS_OP_N ? m : k) ||
      ldb < std::max(1, tb == CUBLAS_OP_N ? k : n) || ldc < std::max(1, m) || !alpha || !beta) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  auto stream = resolve_stream(h->stream);
  // The handle's kernels run on the current device; a stream or handle of another one fails.
  if (!stream || stream->device != current_device() || h->device != current_device()) {
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  if (sticky_error(stream->device) != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
  const T a = *alpha, b = *beta;
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  enqueue(stream, [=] {
    const bool ok = (k == 0 || (device_range(A, extent(a_rows, a_cols, lda, sizeof(T))) &&
                                device_range(B, extent(b_rows, b_cols, ldb, sizeof(T))))) &&
                    device_range(C, extent(m, n, ldc, sizeof(T)));
    if (!ok) {
      throw KernelFault{"cublas gemm: an operand reaches outside its device allocation (m " +
                            std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                            std::to_string(k) + ", lda " + std::to_string(lda) + ", ldb " +
                            std::to_string(ldb) + ", ldc " + std::to_string(ldc) + ")",
                        cudaErrorIllegalAddress};
    }
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        T acc = T(0);
        for (int l = 0; l < k; ++l) {
          const T x = ta == CUBLAS_OP_N ? A[i + static_cast<size_t>(l) * lda]
                                        : A[l + static_cast<size_t>(i) * lda];
          const T y = tb == CUBLAS_OP_N ? B[l + static_cast<size_t>(j) * ldb]
                                        : B[j + static_cast<size_t>(l) * ldb];
          acc += x * y;
        }
        T& c = C[i + static_cast<size_t>(j) * ldc];
        c = b == T(0) ? a * acc : a * acc + b * c;  // beta 0: C is not read (may be NaN)
      }
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  auto guard = lock();
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  if (!valid_device(current_device())) return CUBLAS_STATUS_NOT_INITIALIZED;
  auto* h = new cublasContext();
  h->device = current_device();
  handles().insert(h);
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  auto guard = lock();
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handles().erase(handle);
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  auto guard = lock();
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (stream && !resolve_stream(stream)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  auto guard = lock();
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  auto guard = lock();
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  handle->math = mode;  // recorded only: the emulated product is plain fp32/fp64 (no TF32)
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  auto guard = lock();
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const double* alpha,
                           const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
