// im2col / col2im for a block of output pixels [p0, p1) (row-major over oh×ow) of one image and
// group: the (channel, tap) rows × pixel columns matrix the GEMM convolution multiplies.
#pragma once

#include <cstdint>

#include "kernels/conv_geometry.h"

namespace rtseg::cpu_fast {

// col[(ci·r·s + tap), p − p0] = x[ci, iy, ix] of the tap's input pixel, 0 in the padding, for
// channels ci in [0, channels) of the planes at x.
void im2col_block(float* col, const float* x, int64_t channels, const Conv2dGeometry& g, int64_t p0,
                  int64_t p1);
// The adjoint: dx[ci, iy, ix] += col[...] for every entry that im2col_block would read from it.
void col2im_block_add(float* dx, const float* col, int64_t channels, const Conv2dGeometry& g,
                      int64_t p0, int64_t p1);

}  // namespace rtseg::cpu_fast
