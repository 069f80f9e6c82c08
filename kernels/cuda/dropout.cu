#include "kernels/cuda/dropout.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

namespace {

template <typename T>
__global__ void dropout_apply_kernel(T* out, const T* in, const uint8_t* keep, T scale, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) { out[i] = in[i] * (keep[i] ? scale : T(0)); }
}

}  // namespace

template <typename T>
void dropout_apply(const Exec& exec, T* out, const T* in, const uint8_t* keep, T scale, int64_t n) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, dropout_apply_kernel)
  (out, in, keep, scale, n);
  check_launch("dropout");
}

template void dropout_apply<float>(const Exec&, float*, const float*, const uint8_t*, float,
                                   int64_t);
template void dropout_apply<double>(const Exec&, double*, const double*, const uint8_t*, double,
                                    int64_t);

}  // namespace rtseg::cuda
