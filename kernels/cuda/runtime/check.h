// Status checks for the CUDA runtime, cuBLAS and cuDNN: every call's status becomes an Error that
// names the op (or runtime step) it belongs to. Only included by CUDA-enabled translation units.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/error.h"

namespace rtseg::cuda {

inline void check(cudaError_t status, const char* where) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so the next call starts clean
    fail("{}: CUDA error {} ({})", where, cudaGetErrorName(status), cudaGetErrorString(status));
  }
}

const char* cublas_status_name(cublasStatus_t status);

inline void check(cublasStatus_t status, const char* where) {
  RTSEG_CHECK(status == CUBLAS_STATUS_SUCCESS, "{}: cuBLAS error {}", where,
              cublas_status_name(status));
}

inline void check(cudnnStatus_t status, const char* where) {
  RTSEG_CHECK(status == CUDNN_STATUS_SUCCESS, "{}: cuDNN error {}", where,
              cudnnGetErrorString(status));
}

// After a kernel launch: reports launch-configuration errors at the op that caused them.
inline void check_launch(const char* where) { check(cudaGetLastError(), where); }

}  // namespace rtseg::cuda
