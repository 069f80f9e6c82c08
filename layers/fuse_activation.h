// Activation fusion, for inference: a ReLU or ReLU6 module whose input is exactly the output of a
// Conv2d (directly or through a folded BatchNorm) that nothing else reads becomes that conv's
// epilogue (Conv2dParams::epilogue, applied while the output is in cache), and the activation
// module the identity. Found by tracing one forward, as BatchNorm folding is.
// prepare_for_inference does the rewrites in order: fold, fuse activations, then the residual
// joins of the blocks that offer it (layers/residual_fusion.h).
#pragma once

#include "layers/fold_bn.h"
#include "layers/module.h"

namespace rtseg {

// Returns how many activations were fused. The net must be in eval mode.
int fuse_conv_activations(Module& net, const Shape& input_shape);

struct InferenceReport {
  FoldReport folding;
  int fused_activations = 0;
  int fused_residuals = 0;
};
InferenceReport prepare_for_inference(Module& net, const Shape& input_shape);

}  // namespace rtseg
