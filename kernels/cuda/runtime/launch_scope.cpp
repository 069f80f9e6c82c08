#include "kernels/cuda/runtime/launch_scope.h"

#include <cstdlib>
#include <cstring>

#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"

namespace rtseg::cuda {

bool sync_after_each_launch() {
  static const bool on = [] {
    const char* v = std::getenv("RTSEG_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

LaunchScope::LaunchScope(Stream stream, const char* kernel) : stream_(stream), kernel_(kernel) {
  const int device = device_of(stream);
  if (device < 0) return;  // not a context's stream (a test's own): the caller set the device
  int current = 0;
  check(cudaGetDevice(&current), "cudaGetDevice");
  if (current != device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    previous_device_ = current;
  }
}

LaunchScope::~LaunchScope() {
  if (previous_device_ >= 0) cudaSetDevice(previous_device_);
}

void LaunchScope::finish() {
  finished_ = true;
  if (!sync_after_each_launch()) return;
  if (cudaPeekAtLastError() != cudaSuccess) return;  // a launch error: check_launch reports it
  const cudaError_t status = cudaStreamSynchronize(stream_);
  if (status != cudaSuccess) {
    cudaGetLastError();
    fail("{}: kernel failed (RTSEG_CUDA_SYNC=1): CUDA error {} ({})", kernel_,
         cudaGetErrorName(status), cudaGetErrorString(status));
  }
}

}  // namespace rtseg::cuda
