// Per-channel bias of conv2d and linear on CUDA: the add after a library call that has no bias
// (cuDNN, cuBLAS) and the bias gradient (a sum over everything but the channel). `plane` is the
// number of contiguous elements per (image, channel): OH·OW for conv2d, 1 for linear.
#pragma once

#include <cstdint>

#include "kernels/cuda/runtime/stream.h"

namespace rtseg::cuda {

// y[i, k, p] += bias[k] for y of shape n × channels × plane (contiguous).
template <typename T>
void channel_bias_add(T* y, const T* bias, int64_t n, int64_t channels, int64_t plane,
                      Stream stream);

// db[k] = Σ_{i, p} dy[i, k, p] (overwritten). One block per channel with a fixed summation order,
// so results are deterministic.
template <typename T>
void channel_bias_backward(T* db, const T* dy, int64_t n, int64_t channels, int64_t plane,
                           Stream stream);

}  // namespace rtseg::cuda
