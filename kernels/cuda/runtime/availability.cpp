// Device detection (see availability.h).
#include "kernels/cuda/runtime/availability.h"

#include <cuda_runtime.h>

#include "kernels/error.h"

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

}  // namespace rtseg
