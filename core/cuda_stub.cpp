// cuda_availability() for builds without CUDA (RTSEG_CUDA=OFF).
#include "core/cuda_runtime.h"

namespace rtseg {

const CudaAvailability& cuda_availability() {
  static const CudaAvailability availability{false, 0, "this rtseg was built without CUDA"};
  return availability;
}

}  // namespace rtseg
