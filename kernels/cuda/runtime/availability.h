// Whether CUDA devices can be used, detected once per process. CPU-only use never calls this,
// so it never touches the driver. On a machine without a driver cudaGetDeviceCount returns an
// error (not 0): that is reported as "no GPU" with the driver's reason.
#pragma once

#include <string>

namespace rtseg {

struct CudaAvailability {
  bool built = false;    // compiled with RTSEG_CUDA
  int device_count = 0;  // usable devices (0 when none or not built)
  std::string reason;    // why there is none, in words
};

const CudaAvailability& cuda_availability();
inline bool cuda_available() { return cuda_availability().device_count > 0; }

}  // namespace rtseg
