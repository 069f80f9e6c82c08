// Device memory and copies through the CUDA runtime (built only with RTSEG_CUDA).
#include "core/cuda_runtime.h"

#include <cuda_runtime.h>

#include <cstring>

#include "core/error.h"
#include "core/storage.h"

namespace rtseg {

namespace {

void check_cuda(cudaError_t status, const char* what) {
  RTSEG_CHECK(status == cudaSuccess, "{}: {} ({})", what, cudaGetErrorString(status),
              cudaGetErrorName(status));
}

}  // namespace

const CudaAvailability& cuda_availability() {
  static const CudaAvailability availability = [] {
    CudaAvailability a;
    a.built = true;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      a.reason = fmt::format("no usable GPU: {}", cudaGetErrorString(status));
      cudaGetLastError();  // clear the sticky error so later calls are not confused by it
    } else if (count == 0) {
      a.reason = "no GPU: the driver reports 0 devices";
    } else {
      a.device_count = count;
    }
    return a;
  }();
  return availability;
}

void* cuda_allocate(size_t bytes, int device_index) {
  const CudaAvailability& a = cuda_availability();
  RTSEG_CHECK(a.device_count > 0, "cannot allocate on cuda:{}: {}", device_index, a.reason);
  RTSEG_CHECK(device_index >= 0 && device_index < a.device_count,
              "cannot allocate on cuda:{}: only {} device(s)", device_index, a.device_count);
  check_cuda(cudaSetDevice(device_index), "cudaSetDevice");
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes == 0 ? 1 : bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail("out of memory on cuda:{}: asked for {} bytes, {} free of {}", device_index, bytes,
         free_bytes, total_bytes);
  }
  check_cuda(status, "cudaMalloc");
  return ptr;
}

void cuda_release(void* ptr, int) noexcept {
  if (ptr) cudaFree(ptr);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  // Unified addressing lets the runtime infer the direction.
  check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "copy between devices");
}

}  // namespace rtseg
