#include "core/cuda/context.h"

#include <map>
#include <memory>
#include <mutex>

#include "core/cuda/check.h"
#include "core/cuda_runtime.h"
#include "kernels/cuda/stream.h"

namespace rtseg::cuda {

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "unknown cuBLAS status";
  }
}

DeviceGuard::DeviceGuard(int device) {
  check(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_) cudaSetDevice(previous_);
}

Context::Context(int device) : device_(device) {
  DeviceGuard guard(device);
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating the CUDA stream");
}

Context::~Context() {
  // Contexts live until the process exits, when the driver may already be shutting down:
  // statuses are deliberately ignored here.
  if (cudnn_) cudnnDestroy(cudnn_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

cublasHandle_t Context::cublas() {
  if (!cublas_) {
    DeviceGuard guard(device_);
    check(cublasCreate(&cublas_), "creating the cuBLAS handle");
    check(cublasSetStream(cublas_, stream_), "cublasSetStream");
    check(cublasSetMathMode(cublas_, tf32_ ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
  }
  return cublas_;
}

cudnnHandle_t Context::cudnn() {
  if (!cudnn_) {
    DeviceGuard guard(device_);
    check(cudnnCreate(&cudnn_), "creating the cuDNN handle");
    check(cudnnSetStream(cudnn_, stream_), "cudnnSetStream");
  }
  return cudnn_;
}

void Context::set_tf32(bool on) {
  tf32_ = on;
  if (cublas_) {
    check(cublasSetMathMode(cublas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
  }
}

void Context::synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

Context& context(int device) {
  static std::mutex mutex;
  // Never destroyed (see allocator.cpp): tensors may outlive static destruction order.
  static auto* contexts = new std::map<int, std::unique_ptr<Context>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = contexts->find(device);
  if (it != contexts->end()) return *it->second;
  const CudaAvailability& a = cuda_availability();
  RTSEG_CHECK(a.device_count > 0, "cuda:{}: {}", device, a.reason);
  RTSEG_CHECK(device >= 0 && device < a.device_count, "cuda:{}: only {} device(s) present", device,
              a.device_count);
  return *contexts->emplace(device, std::make_unique<Context>(device)).first->second;
}

}  // namespace rtseg::cuda

namespace rtseg::cuda {
Stream stream_of(int device) { return context(device).stream(); }
}  // namespace rtseg::cuda
