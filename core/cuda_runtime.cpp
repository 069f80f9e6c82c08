// Device detection, memory and copies through the CUDA runtime (built only with RTSEG_CUDA).
#include "core/cuda_runtime.h"

#include <cuda_runtime.h>

#include <cstring>

#include "core/cuda/allocator.h"
#include "core/cuda/check.h"
#include "core/cuda/context.h"
#include "core/storage.h"

namespace rtseg {

const CudaAvailability& cuda_availability() {
  static const CudaAvailability availability = [] {
    CudaAvailability a;
    a.built = true;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      a.reason = fmt::format("no usable GPU: {}", cudaGetErrorString(status));
      cudaGetLastError();  // clear the error so later calls are not confused by it
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
              "cannot allocate on cuda:{}: only {} device(s) present", device_index, a.device_count);
  return cuda::allocate(bytes, device_index);
}

void cuda_release(void* ptr, int device_index) noexcept { cuda::release(ptr, device_index); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
  } else if (src_device.is_cpu()) {
    // From pageable memory the call returns once the source is staged, so `src` may go away.
    cuda::Context& ctx = cuda::context(dst_device.index);
    cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()),
                "copy host -> device");
  } else if (dst_device.is_cpu()) {
    cuda::Context& ctx = cuda::context(src_device.index);
    cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()),
                "copy device -> host");
    ctx.synchronize();
  } else if (dst_device == src_device) {
    cuda::Context& ctx = cuda::context(dst_device.index);
    cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()),
                "copy device -> device");
  } else {
    cuda::context(src_device.index).synchronize();
    cuda::context(dst_device.index).synchronize();
    cuda::check(cudaMemcpyPeer(dst, dst_device.index, src, src_device.index, bytes),
                "copy between devices");
  }
}

}  // namespace rtseg
