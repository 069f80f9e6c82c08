#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

namespace {

template <typename T>
__global__ void channel_bias_add_kernel(T* y, const T* bias, int64_t total, int64_t channels,
                                        int64_t plane) {
  RTSEG_GRID_STRIDE_LOOP(i, total) { y[i] += bias[(i / plane) % channels]; }
}

// Block b sums channel b (and b + gridDim.x, ...). Threads walk the flattened (image, position)
// range so both large planes (conv) and plane = 1 (linear) spread over the block.
template <typename T>
__global__ void channel_bias_backward_kernel(T* db, const T* dy, int64_t n, int64_t channels,
                                             int64_t plane) {
  const int64_t count = n * plane;
  for (int64_t k = blockIdx.x; k < channels; k += gridDim.x) {
    T acc = T(0);
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
      const int64_t i = e / plane, p = e - i * plane;
      acc += dy[(i * channels + k) * plane + p];
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) db[k] = acc;
  }
}

}  // namespace

template <typename T>
void channel_bias_add(T* y, const T* bias, int64_t n, int64_t channels, int64_t plane,
                      Stream stream) {
  const int64_t total = n * channels * plane;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, stream, channel_bias_add_kernel)
  (y, bias, total, channels, plane);
  check_launch("channel_bias_add");
}

template <typename T>
void channel_bias_backward(T* db, const T* dy, int64_t n, int64_t channels, int64_t plane,
                           Stream stream) {
  if (channels == 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>(channels, 65535));
  RTSEG_LAUNCH(blocks, kThreads, 0, stream, channel_bias_backward_kernel)
  (db, dy, n, channels, plane);
  check_launch("channel_bias_backward");
}

#define RTSEG_INSTANTIATE_CHANNEL_BIAS(T)                                             \
  template void channel_bias_add<T>(T*, const T*, int64_t, int64_t, int64_t, Stream); \
  template void channel_bias_backward<T>(T*, const T*, int64_t, int64_t, int64_t, Stream);
RTSEG_INSTANTIATE_CHANNEL_BIAS(float)
RTSEG_INSTANTIATE_CHANNEL_BIAS(double)

}  // namespace rtseg::cuda
