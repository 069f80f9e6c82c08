#include "kernels/cuda/runtime/context.h"

#include <map>
#include <memory>
#include <mutex>

#include "kernels/cuda/runtime/availability.h"
#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/stream.h"

namespace rtseg::cuda {

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    default:
      return "unknown cuBLAS status";
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
  if (mark_) cudaEventDestroy(mark_);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

cublasHandle_t Context::cublas() {
  std::lock_guard<std::mutex> lock(handles_mutex_);
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
  std::lock_guard<std::mutex> lock(handles_mutex_);
  if (!cudnn_) {
    DeviceGuard guard(device_);
    check(cudnnCreate(&cudnn_), "creating the cuDNN handle");
    check(cudnnSetStream(cudnn_, stream_), "cudnnSetStream");
  }
  return cudnn_;
}

void Context::set_tf32(bool on) {
  std::lock_guard<std::mutex> lock(handles_mutex_);
  tf32_ = on;
  if (cublas_) {
    check(cublasSetMathMode(cublas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
  }
}

cudaEvent_t Context::mark() {
  std::lock_guard<std::mutex> lock(handles_mutex_);
  if (!mark_) {
    DeviceGuard guard(device_);  // an event belongs to the device current at its creation
    check(cudaEventCreateWithFlags(&mark_, cudaEventDisableTiming), "creating a CUDA event");
  }
  check(cudaEventRecord(mark_, stream_), "cudaEventRecord");
  return mark_;
}

void Context::synchronize() const {
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

namespace {

struct Contexts {
  std::mutex mutex;
  std::map<int, std::unique_ptr<Context>> by_device;
};

// Never destroyed (see allocator.cpp): tensors may outlive static destruction order.
Contexts& contexts() {
  static auto* c = new Contexts();
  return *c;
}

}  // namespace

Context& context(int device) {
  Contexts& all = contexts();
  std::lock_guard<std::mutex> lock(all.mutex);
  auto* contexts = &all.by_device;
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

int device_of(Stream stream) {
  Contexts& all = contexts();
  std::lock_guard<std::mutex> lock(all.mutex);
  for (const auto& [device, ctx] : all.by_device) {
    if (ctx->stream() == stream) return device;
  }
  return -1;
}

}  // namespace rtseg::cuda
