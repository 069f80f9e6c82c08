// Geometry of a 2-D convolution (NCHW input, OIHW weight), shared by the CPU reference kernels
// and, later, the CUDA kernels: one place computes the output size and the range of output
// positions a kernel tap can reach, so every backend agrees on PyTorch's floor semantics.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define RTSEG_HOST_DEVICE __host__ __device__
#else
#define RTSEG_HOST_DEVICE
#endif

namespace rtseg {

struct Conv2dGeometry {
  int64_t n = 0;  // batch
  int64_t c = 0;  // input channels (all groups)
  int64_t h = 0, w = 0;
  int64_t k = 0;         // output channels (all groups)
  int64_t r = 0, s = 0;  // kernel height, width
  int64_t oh = 0, ow = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t groups = 1;

  RTSEG_HOST_DEVICE int64_t c_per_group() const { return c / groups; }
  RTSEG_HOST_DEVICE int64_t k_per_group() const { return k / groups; }
  RTSEG_HOST_DEVICE int64_t input_numel() const { return n * c * h * w; }
  RTSEG_HOST_DEVICE int64_t weight_numel() const { return k * c_per_group() * r * s; }
  RTSEG_HOST_DEVICE int64_t output_numel() const { return n * k * oh * ow; }
};

// PyTorch's output length: floor((in + 2·pad − dil·(kernel − 1) − 1) / stride) + 1. The result
// is ≤ 0 when the dilated kernel does not fit in the padded input; callers reject that. The
// numerator is tested before dividing because C++ division truncates towards zero, which would
// turn a small negative numerator into output length 1.
RTSEG_HOST_DEVICE inline int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride,
                                                  int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// Output positions o in [begin, end) for which the input index o·stride + offset lies in
// [0, in). `offset` is tap·dilation − pad for one kernel tap. Loops over these ranges never test
// bounds inside, and padding contributes nothing, i.e. zero padding.
struct OutputRange {
  int64_t begin;
  int64_t end;
};

RTSEG_HOST_DEVICE inline OutputRange conv_valid_range(int64_t offset, int64_t in, int64_t stride,
                                                      int64_t out) {
  // Smallest o with o·stride + offset ≥ 0, and one past the largest with o·stride + offset ≤ in−1.
  const int64_t begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t end = offset > in - 1 ? 0 : (in - 1 - offset) / stride + 1;
  const int64_t clipped_end = end < out ? end : out;
  return {begin, clipped_end > begin ? clipped_end : begin};
}

// Small integer helpers for index arithmetic that must agree between the host (tile planning,
// tests) and the device (kernels); std::min/max are not device functions without extra flags.
RTSEG_HOST_DEVICE inline int conv_imin(int a, int b) { return a < b ? a : b; }
RTSEG_HOST_DEVICE inline int conv_imax(int a, int b) { return a > b ? a : b; }
// ceil(a / b) for any sign of a and b > 0 (C++ division truncates towards zero).
RTSEG_HOST_DEVICE inline int conv_ceil_div(int a, int b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

}  // namespace rtseg
