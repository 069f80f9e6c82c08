// Convolution and dense products. Depthwise, dilated and grouped convolutions are one op with
// parameters; the backend chooses the kernel underneath.
#pragma once

#include <array>

#include "core/tensor.h"
#include "kernels/conv_epilogue.h"

namespace rtseg {

struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1};    // (h, w)
  std::array<int64_t, 2> padding{0, 0};   // zero padding on both sides, (h, w)
  std::array<int64_t, 2> dilation{1, 1};  // (h, w)
  int64_t groups = 1;
  // Applied to conv + bias before the output is stored (inference: an activation fused in after
  // BatchNorm folding). When a gradient is recorded the activation runs as its own op instead.
  ConvEpilogue epilogue = ConvEpilogue::None;
};

// x: N×C×H×W, weight: K×(C/groups)×R×S, bias: K or undefined.
// Output N×K×OH×OW with OH = (H + 2·pad − dil·(R−1) − 1) / stride + 1 (floor), as PyTorch.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);
// Square convenience form.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// epilogue(conv(x) + bias + residual), residual shaped as the output (a residual block's join,
// for inference). The fast CPU backend adds it while each output block is in cache; elsewhere, and
// whenever a gradient is recorded, it runs as conv2d, add and the activation.
Tensor conv2d_add(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                  const Tensor& residual);

// Which CUDA kernel family conv2d runs for these shapes on a GPU, whatever the tensors' device:
// "depthwise", "grouped" or "cudnn" (kernels/cuda/conv_select.h), for benches and logs.
const char* conv2d_cuda_backend(const Tensor& x, const Tensor& weight, const Conv2dParams& p);

// a: M×K, b: K×N -> M×N.
Tensor matmul(const Tensor& a, const Tensor& b);
// x: N×in, weight: out×in, bias: out or undefined -> N×out (x·weightᵀ + bias, as torch.nn.Linear).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace rtseg
