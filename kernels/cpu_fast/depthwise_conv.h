// Depthwise convolution planes (groups = C, output channel k reads input channel k / multiplier)
// for the fast CPU backend: one output row at a time, every tap accumulated into the row while it
// is in L1; the inner loops run along contiguous rows and are compiled for AVX-512, AVX2+FMA and
// baseline x86-64, chosen at load time by the CPU (GCC function multiversioning).
#pragma once

#include <cstdint>

#include "kernels/conv_epilogue.h"
#include "kernels/conv_geometry.h"

namespace rtseg::cpu_fast {

// One output plane y (oh×ow) of image n, channel k from its input plane x (h×w), its taps
// w (r×s), bias b and epilogue. `g` gives the sizes, strides, padding and dilation. Where every
// tap of a column is inside the row, 16 outputs at a time are summed over all taps in registers
// and stored once; the columns near the padding take one pass per tap over their range.
void depthwise_forward_plane(float* y, const float* x, const float* w, float b,
                             const Conv2dGeometry& g, ConvEpilogue epilogue = ConvEpilogue::None);
// dx (h×w) += Σ over taps and outputs of dy (oh×ow) · w: one input plane's share of one output
// plane (a multiplier > 1 sends several output planes into one input plane).
void depthwise_backward_input_plane(float* dx, const float* dy, const float* w,
                                    const Conv2dGeometry& g);
// dw[r·s + t] += Σ_{oy, ox} dy · x for every tap t, one image's planes, accumulated in double.
void depthwise_backward_weight_plane(double* dw, const float* dy, const float* x,
                                     const Conv2dGeometry& g);
// Σ of a plane's n values, in double.
double plane_sum(const float* v, int64_t n);

}  // namespace rtseg::cpu_fast
