// Dense (groups = 1) convolutions other than 1×1 through oneDNN's direct convolution kernels,
// which it JIT-compiles for the CPU it runs on (AVX2, AVX-512, AMX) and which keep a tile of
// output channels × pixels in registers across every input channel and tap: measured here
// 65–85 GFLOP/s on one AVX2 core against 45–55 for im2col + GEMM, which also writes every input
// value r·s times. The kernels want channels in blocks of 8 or 16 (nChw8c / nChw16c, whichever
// oneDNN picks for the CPU); rtseg's tensors stay NCHW, so each task packs the rows it reads into
// blocks and unpacks the rows it wrote (a few % of the convolution's time).
//
// Tasks are (image, block of output rows), cut by the shape alone; each runs one
// single-threaded oneDNN primitive whose padding is that block's own (the top block has the top
// padding, and so on), so a task computes the same bits whatever thread runs it and however
// many there are.
#pragma once

#include "kernels/conv_epilogue.h"
#include "kernels/conv_geometry.h"

namespace rtseg::cpu_fast {

// y = epilogue(conv(x, w) + bias + residual) for a dense convolution (bias and residual, shaped
// as y, may be null). Returns false, writing nothing, where oneDNN has no JIT kernel for the
// geometry (the caller falls back to im2col); the answer is decided once per geometry and cached.
bool direct_conv_forward(float* y, const float* x, const float* w, const float* bias,
                         const float* residual, const Conv2dGeometry& g, ConvEpilogue epilogue);

// dx = the input gradient of that convolution (direct_conv_backward.cpp: by blocks of input
// rows, each task reading the output-gradient rows that reach its own). Returns false, writing
// nothing, where oneDNN has no JIT kernel for a block.
bool direct_conv_backward_input(float* dx, const float* dy, const float* w,
                                const Conv2dGeometry& g);

// Whether conv2d_forward and conv2d_backward_input use the direct kernels (default on): off,
// dense convolutions run through im2col, for the tests and benchmarks that compare the two.
void set_direct_conv_enabled(bool enabled);
bool direct_conv_enabled();

}  // namespace rtseg::cpu_fast
