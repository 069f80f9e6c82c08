// Device detection, memory and copies through the CUDA runtime (built only with RTSEG_CUDA).
#include "core/cuda_runtime.h"

#include <cuda_runtime.h>

#include <cstring>

#include "core/cuda/allocator.h"
#include "core/cuda/check.h"
#include "core/cuda/context.h"
#include "core/storage.h"

namespace rtseg {

namespace {

// The kernels are compiled for RTSEG_CUDA_MIN_COMPUTE_CAPABILITY and up (CMake's
// CMAKE_CUDA_ARCHITECTURES): an older GPU would accept every launch and fail it with "no kernel
// image", so it is refused here, with the reason. Empty when every device is recent enough.
std::string unsupported_device_reason(int count) {
  for (int d = 0; d < count; ++d) {
    int major = 0, minor = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess) {
      cudaGetLastError();
      return fmt::format("cuda:{}: cannot read its compute capability", d);
    }
    if (major * 10 + minor < RTSEG_CUDA_MIN_COMPUTE_CAPABILITY) {
      cudaDeviceProp prop{};
      cudaGetDeviceProperties(&prop, d);
      return fmt::format(
          "cuda:{} ({}) has compute capability {}.{}; this rtseg was built for "
          "sm_{} and newer (CMAKE_CUDA_ARCHITECTURES)",
          d, prop.name, major, minor, RTSEG_CUDA_MIN_COMPUTE_CAPABILITY);
    }
  }
  return "";
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
      cudaGetLastError();  // clear the error so later calls are not confused by it
    } else if (count == 0) {
      a.reason = "no GPU: the driver reports 0 devices";
    } else {
      a.device_count = count;
      a.reason = unsupported_device_reason(count);
      if (!a.reason.empty()) a.device_count = 0;
    }
    return a;
  }();
  return availability;
}

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
