// 2-D convolution on the fast CPU backend, float32, every case of the op (dense, grouped,
// depthwise with a depth multiplier, strided, dilated, padded), the same contract as the
// reference kernels of kernels/cpu/conv2d.h (which remain the oracle):
//   depthwise (groups = C)         hand-written row kernels, vectorised for the CPU it runs on
//   1×1, stride 1, no padding      one GEMM per image and group on the NCHW planes as they are
//   other dense (groups = 1)       oneDNN's direct kernels forward (direct_conv.h)
//   anything else                  im2col of a block of output pixels + GEMM (gemm.h)
// All parallel over the thread pool with shape-fixed tasks: bit-identical for any thread count.
#pragma once

#include "kernels/conv_epilogue.h"
#include "kernels/conv_geometry.h"

namespace rtseg::cpu_fast {

// Direct: oneDNN's direct kernels (direct_conv.h) forward and for the input gradient, where it
// has them for the geometry (else im2col); the weight gradient runs through im2col + GEMM.
enum class ConvAlgorithm { Depthwise, Pointwise, Direct, Im2colGemm };

ConvAlgorithm choose_conv_algorithm(const Conv2dGeometry& g);
const char* conv_algorithm_name(ConvAlgorithm a);

// y = epilogue(conv(x, w) + bias + residual) (bias and residual, laid out as y, may be null).
void conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                    const Conv2dGeometry& g, ConvEpilogue epilogue = ConvEpilogue::None,
                    const float* residual = nullptr);
// Overwrite dx / dw / db with the gradients.
void conv2d_backward_input(float* dx, const float* dy, const float* w, const Conv2dGeometry& g);
void conv2d_backward_weight(float* dw, const float* dy, const float* x, const Conv2dGeometry& g);
void conv2d_backward_bias(float* db, const float* dy, const Conv2dGeometry& g);

}  // namespace rtseg::cpu_fast
