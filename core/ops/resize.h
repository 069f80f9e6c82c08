// Spatial resizing of N×C×H×W maps, with PyTorch's F.interpolate semantics for a target size
// (any sizes, up or down). The source positions are computed as PyTorch's CPU kernels compute
// them (scale in the tensor's dtype for bilinear, in float for nearest). Both ops are linear;
// their backward is the scatter-add transpose of the forward.
#pragma once

#include "core/tensor.h"

namespace rtseg {

// align_corners true: corner pixel centres map onto each other, src = dst·(in−1)/(out−1).
// align_corners false: src = (dst + 0.5)·in/out − 0.5, clamped below at 0.
// Taps i0 = floor(src), i1 = min(i0 + 1, in − 1). out = 1 with align_corners samples pixel 0.
Tensor interpolate_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);
// PyTorch's mode='nearest': src = min(floor(dst·in/out), in−1).
Tensor interpolate_nearest(const Tensor& x, int64_t out_h, int64_t out_w);

}  // namespace rtseg
