// Which CUDA kernel runs a conv2d: one readable function of the geometry alone (not the dtype,
// not the device), so float32 and float64 take the same path, every GPU makes the same choice,
// and the bench can print it. Header-only and free of CUDA headers: CPU builds and CPU tests use
// it too.
#pragma once

#include "kernels/conv_geometry.h"
#include "kernels/cuda/depthwise_conv.h"
#include "kernels/cuda/grouped_conv.h"

namespace rtseg::cuda {

enum class ConvBackend { Depthwise, Grouped, Cudnn };

inline const char* conv_backend_name(ConvBackend b) {
  switch (b) {
    case ConvBackend::Depthwise:
      return "depthwise";
    case ConvBackend::Grouped:
      return "grouped";
    case ConvBackend::Cudnn:
      return "cudnn";
  }
  return "?";
}

// Largest group (input channels per group) the direct grouped kernel takes; beyond it the
// per-output loop is long enough that cuDNN's implicit GEMM wins.
constexpr int64_t kGroupedMaxChannelsPerGroup = 128;

// 1. Depthwise (groups == C, any depth multiplier K = m·C, any kernel, stride and dilation) whose
//    staged tiles fit in shared memory: the hand-written depthwise kernels. PyTorch and cuDNN are
//    weakest here (PERF-NOTES §1-2: fp32 and every dilated depthwise conv get a naive kernel).
// 2. Any other grouped conv (groups > 1, including a depthwise conv whose dilated tile is too big
//    to stage) with at most 128 input channels per group: the hand-written grouped kernel.
// 3. Everything else — dense convs (groups == 1), wide groups, 32-bit-index overflow: cuDNN.
inline ConvBackend choose_conv_backend(const Conv2dGeometry& g) {
  if (depthwise_supported(g)) return ConvBackend::Depthwise;
  if (g.groups > 1 && g.c_per_group() <= kGroupedMaxChannelsPerGroup && direct_conv_indexable(g)) {
    return ConvBackend::Grouped;
  }
  return ConvBackend::Cudnn;
}

}  // namespace rtseg::cuda
