// Grouped conv kernels and the shared (grouped + depthwise) weight gradient: thin __global__
// wrappers around the bodies of grouped_conv.h, and their launches.
#include "kernels/cuda/grouped_conv.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

namespace {

// Grid: (positions of an output plane / 256, output-channel block, image). One thread per output
// position; all threads of a block use the same weights.
template <typename T, int KS, int KB>
__global__ void __launch_bounds__(kDirectConvThreads)
    grouped_forward_kernel(T* y, const T* x, const T* w, const T* bias, DirectConvParams p) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= p.oh * p.ow) return;
  grouped_forward_outputs<T, KS, KB>(y, x, w, bias, p, blockIdx.z, blockIdx.y * KB, o);
}

// Grid: (positions of an input plane / 256, input channel, image). One thread per input element.
template <typename T, int KS>
__global__ void __launch_bounds__(kDirectConvThreads)
    grouped_backward_data_kernel(T* dx, const T* dy, const T* w, DirectConvParams p) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.h * p.w) return;
  grouped_backward_data_input<T, KS>(dx, dy, w, p, blockIdx.z, blockIdx.y, i);
}

// Grid: (filter rows [× taps for KS = 0], chunks), weight_grad_threads(p) threads. Every thread
// runs the body (no early exit: block_sum needs the whole block), then the block's sums go to
// their slots.
template <typename T, int KS>
__global__ void __launch_bounds__(kDirectConvThreads)
    weight_grad_kernel(T* out, const T* dy, const T* x, DirectConvParams p) {
  constexpr int kTaps = KS > 0 ? KS * KS : 1;
  const int rs = p.r * p.s;
  const int row = KS > 0 ? static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x) / rs;
  const int tap0 = KS > 0 ? 0 : static_cast<int>(blockIdx.x) - row * rs;
  const int chunk = blockIdx.y;
  T acc[kTaps];
  for (int t = 0; t < kTaps; ++t) acc[t] = T(0);
  weight_grad_partial<T, KS>(acc, dy, x, p, row, tap0, chunk, threadIdx.x, blockDim.x);
  for (int t = 0; t < kTaps; ++t) {
    const T total = block_sum(acc[t]);
    if (threadIdx.x == 0) out[weight_grad_slot(p, row, tap0 + t, chunk)] = total;
  }
}

template <typename T>
__global__ void weight_grad_finish_kernel(T* dw, const T* partial, DirectConvParams p, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) { weight_grad_finish(dw, partial, p, i); }
}

unsigned blocks_over(int64_t n) {
  return static_cast<unsigned>((n + kDirectConvThreads - 1) / kDirectConvThreads);
}

}  // namespace

template <typename T>
void grouped_conv2d_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g,
                            Stream stream) {
  const DirectConvParams p = direct_conv_params(g);
  const int kb = grouped_channel_block(g);
  const dim3 grid(blocks_over(g.oh * g.ow), static_cast<unsigned>(g.k / kb),
                  static_cast<unsigned>(g.n));
  const bool k3 = grouped_kernel_variant(g) == 3;
  if (k3 && kb == 4) {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_forward_kernel<T, 3, 4>)
    (y, x, w, bias, p);
  } else if (k3) {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_forward_kernel<T, 3, 1>)
    (y, x, w, bias, p);
  } else if (kb == 4) {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_forward_kernel<T, 0, 4>)
    (y, x, w, bias, p);
  } else {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_forward_kernel<T, 0, 1>)
    (y, x, w, bias, p);
  }
  check_launch("grouped_conv2d_forward");
}

template <typename T>
void grouped_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                  Stream stream) {
  const DirectConvParams p = direct_conv_params(g);
  const dim3 grid(blocks_over(g.h * g.w), static_cast<unsigned>(g.c), static_cast<unsigned>(g.n));
  if (grouped_kernel_variant(g) == 3) {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_backward_data_kernel<T, 3>)
    (dx, dy, w, p);
  } else {
    RTSEG_LAUNCH(grid, kDirectConvThreads, 0, stream, grouped_backward_data_kernel<T, 0>)
    (dx, dy, w, p);
  }
  check_launch("grouped_conv2d_backward_data");
}

template <typename T>
void grouped_conv2d_backward_weight(T* dw, const T* dy, const T* x, const Conv2dGeometry& g,
                                    T* workspace, Stream stream) {
  const DirectConvParams p = direct_conv_params(g);
  RTSEG_CHECK(p.chunks == 1 || workspace != nullptr,
              "grouped_conv2d_backward_weight: {} chunks need a workspace", p.chunks);
  T* out = p.chunks > 1 ? workspace : dw;
  const int64_t rows = g.k * g.c_per_group();
  const int threads = weight_grad_threads(p);
  if (weight_grad_per_tap(g)) {
    const dim3 grid(static_cast<unsigned>(rows * g.r * g.s), static_cast<unsigned>(p.chunks));
    RTSEG_LAUNCH(grid, threads, 0, stream, weight_grad_kernel<T, 0>)(out, dy, x, p);
  } else {
    const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(p.chunks));
    RTSEG_LAUNCH(grid, threads, 0, stream, weight_grad_kernel<T, 3>)(out, dy, x, p);
  }
  check_launch("grouped_conv2d_backward_weight");
  if (p.chunks > 1) {
    const int64_t n = g.weight_numel();
    RTSEG_LAUNCH(blocks_for(n), kThreads, 0, stream, weight_grad_finish_kernel<T>)
    (dw, workspace, p, n);
    check_launch("grouped_conv2d_backward_weight (chunk sum)");
  }
}

#define RTSEG_INSTANTIATE_GROUPED(T)                                                               \
  template void grouped_conv2d_forward<T>(T*, const T*, const T*, const T*, const Conv2dGeometry&, \
                                          Stream);                                                 \
  template void grouped_conv2d_backward_data<T>(T*, const T*, const T*, const Conv2dGeometry&,     \
                                                Stream);                                           \
  template void grouped_conv2d_backward_weight<T>(T*, const T*, const T*, const Conv2dGeometry&,   \
                                                  T*, Stream);
RTSEG_INSTANTIATE_GROUPED(float)
RTSEG_INSTANTIATE_GROUPED(double)

}  // namespace rtseg::cuda
