#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/sgd.h"

namespace rtseg::cuda {

namespace {

template <typename T>
__global__ void sgd_step_kernel(T* param, const T* grad, T* buf, int64_t n, bool first_step,
                                SgdHyper h) {
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    T p = param[i];
    T b = buf ? buf[i] : T(0);
    sgd_update(p, grad[i], b, first_step, h);
    param[i] = p;
    if (buf) buf[i] = b;
  }
}

}  // namespace

template <typename T>
void sgd_step(const Exec& exec, T* param, const T* grad, T* momentum_buffer, int64_t n,
              bool first_step, const SgdHyper& hyper) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, sgd_step_kernel)
  (param, grad, momentum_buffer, n, first_step, hyper);
  check_launch("sgd_step");
}

template void sgd_step<float>(const Exec&, float*, const float*, float*, int64_t, bool,
                              const SgdHyper&);
template void sgd_step<double>(const Exec&, double*, const double*, double*, int64_t, bool,
                               const SgdHyper&);

}  // namespace rtseg::cuda
