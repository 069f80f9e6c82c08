// Every cuDNN call of rtseg, organised by op. Dense convolution (and whatever grouped or
// depthwise conv the backend chooser sends here, see conv_select.h) runs through cuDNN 9's legacy
// API. The algorithm of each pass is measured once per shape (cudnnFind*Ex, with a workspace from
// the caching allocator) and cached under the full geometry, dtype, math mode and device.
//
// Math mode (the context's tf32() setting, kernels/cuda/runtime/context.h):
//  - float32, tf32 off: CUDNN_FMA_MATH. CUDNN_DEFAULT_MATH is *not* strict float32: on sm80+ it
//    permits TF32 tensor cores.
//  - float32, tf32 on: CUDNN_DEFAULT_MATH, which permits TF32 (what PyTorch's allow_tf32 does).
//    Not CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: that also lets cuDNN convert float32 data to
//    float16 for the tensor cores, which is less accurate than TF32 and would be mislabelled.
//  - float64: CUDNN_DEFAULT_MATH (there is no reduced-precision float64 math).
// NVIDIA_TF32_OVERRIDE=0 in the environment disables TF32 regardless.
//
// Algorithm choice: the fastest measured algorithm that is deterministic, else the fastest, among
// those that ran, within a 256 MiB workspace. Measuring synchronises the stream and is meant for
// warm-up: never let a new shape reach cuDNN inside CUDA-graph capture.
#pragma once

#include <string>

#include "kernels/conv_geometry.h"

namespace rtseg::cuda {

// ---- conv2d (no bias: the caller adds it; device pointers, NCHW / OIHW contiguous, run on the
// stream of `device`'s context)

template <typename T>
void cudnn_conv2d_forward(T* y, const T* x, const T* w, const Conv2dGeometry& g, int device);

// dx = gradient of the input (overwritten).
template <typename T>
void cudnn_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                int device);

// dw = gradient of the weight (overwritten).
template <typename T>
void cudnn_conv2d_backward_filter(T* dw, const T* dy, const T* x, const Conv2dGeometry& g,
                                  int device);

// The algorithms chosen so far for this geometry, e.g. "forward IMPLICIT_PRECOMP_GEMM (FMA math,
// 0 B workspace); backward-data ALGO_1 (...)", for the bench; empty before the first call.
std::string cudnn_conv2d_algorithms(const Conv2dGeometry& g, bool is_double, int device);

}  // namespace rtseg::cuda
