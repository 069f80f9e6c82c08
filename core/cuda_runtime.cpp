// Device memory and copies through the CUDA runtime (built only with RTSEG_CUDA).
#include "core/cuda_runtime.h"

#include <cuda_runtime.h>

#include <cstring>

#include "core/storage.h"
#include "kernels/cuda/runtime/allocator.h"
#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"

namespace rtseg {

void* cuda_allocate(size_t bytes, int device_index) {
  const CudaAvailability& a = cuda_availability();
  RTSEG_CHECK(a.device_count > 0, "cannot allocate on cuda:{}: {}", device_index, a.reason);
  RTSEG_CHECK(device_index >= 0 && device_index < a.device_count,
              "cannot allocate on cuda:{}: only {} device(s) present", device_index,
              a.device_count);
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
    // Ordered on both streams: the copy waits for the work queued on the source, and the
    // source's later work (which may reuse `src`) waits for the copy.
    cuda::Context& from = cuda::context(src_device.index);
    cuda::Context& to = cuda::context(dst_device.index);
    cuda::check(cudaStreamWaitEvent(to.stream(), from.mark(), 0), "copy between devices");
    cuda::check(
        cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, to.stream()),
        "copy between devices");
    cuda::check(cudaStreamWaitEvent(from.stream(), to.mark(), 0), "copy between devices");
  }
}

}  // namespace rtseg
