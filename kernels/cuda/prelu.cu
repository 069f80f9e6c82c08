// PReLU kernels: per-plane elementwise forward and dx, and the slope gradient as a deterministic
// per-channel reduction (kernels/cuda/channel_reduce.cuh), with the reference's arithmetic: the
// product g·x in T, the sum in double.
#include "kernels/cuda/channel_reduce.cuh"
#include "kernels/cuda/prelu.h"

namespace rtseg::cuda {

namespace {

template <typename T>
__global__ void prelu_forward_kernel(T* y, const T* x, const T* weight, int64_t c, int64_t inner,
                                     int64_t planes) {
  RTSEG_PLANE_LOOP(plane, planes) {
    const T a = weight[plane % c];
    const T* xp = x + plane * inner;
    T* yp = y + plane * inner;
    RTSEG_PLANE_ELEMENT_LOOP(i, inner) {
      const T v = xp[i];
      yp[i] = v > T(0) ? v : a * v;
    }
  }
}

template <typename T>
__global__ void prelu_grad_input_kernel(T* dx, const T* grad, const T* x, const T* weight,
                                        int64_t c, int64_t inner, int64_t planes) {
  RTSEG_PLANE_LOOP(plane, planes) {
    const T a = weight[plane % c];
    const int64_t base = plane * inner;
    RTSEG_PLANE_ELEMENT_LOOP(i, inner) {
      const T g = grad[base + i];
      dx[base + i] = x[base + i] > T(0) ? g : a * g;
    }
  }
}

template <typename T>
struct SlopeGradTerm {
  const T* grad;
  const T* x;
  __device__ void operator()(Sums<1>& acc, int64_t, int64_t at) const {
    const T v = x[at];
    if (v <= T(0)) acc.v[0] += static_cast<double>(grad[at] * v);
  }
};

template <typename T>
__global__ void slope_grad_kernel(T* dweight, const double* partial, int64_t c, int64_t parts) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    dweight[k] = static_cast<T>(channel_total<1>(partial, k, parts, 0));
  }
}

}  // namespace

template <typename T>
void prelu_forward(const Exec& exec, T* y, const T* x, const T* weight, int64_t outer, int64_t c,
                   int64_t inner) {
  const int64_t planes = outer * c;
  if (planes * inner == 0) return;
  RTSEG_LAUNCH(plane_grid(planes, inner), kThreads, 0, exec.stream, prelu_forward_kernel)
  (y, x, weight, c, inner, planes);
  check_launch("prelu");
}

int64_t prelu_workspace_size(const Exec&, int64_t outer, int64_t c, int64_t inner) {
  return c * plan_channel_reduce(outer, c, inner).parts;
}

template <typename T>
void prelu_backward(const Exec& exec, T* dx, T* dweight, const T* grad, const T* x, const T* weight,
                    int64_t outer, int64_t c, int64_t inner, double* workspace) {
  const int64_t planes = outer * c;
  if (dx && planes * inner > 0) {
    RTSEG_LAUNCH(plane_grid(planes, inner), kThreads, 0, exec.stream, prelu_grad_input_kernel)
    (dx, grad, x, weight, c, inner, planes);
    check_launch("prelu backward");
  }
  if (dweight && c > 0) {
    const ChannelReducePlan plan = plan_channel_reduce(outer, c, inner);
    RTSEG_LAUNCH(channel_reduce_grid(plan, c), kThreads, 0, exec.stream,
                 channel_partial_sums_kernel<1>)
    (workspace, outer, c, inner, plan, SlopeGradTerm<T>{grad, x});
    check_launch("prelu backward (slope)");
    RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, slope_grad_kernel)
    (dweight, workspace, c, plan.parts);
    check_launch("prelu backward (slope)");
  }
}

#define RTSEG_INSTANTIATE_PRELU(T)                                                                \
  template void prelu_forward<T>(const Exec&, T*, const T*, const T*, int64_t, int64_t, int64_t); \
  template void prelu_backward<T>(const Exec&, T*, T*, const T*, const T*, const T*, int64_t,     \
                                  int64_t, int64_t, double*);
RTSEG_INSTANTIATE_PRELU(float)
RTSEG_INSTANTIATE_PRELU(double)

}  // namespace rtseg::cuda
