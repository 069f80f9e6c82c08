// Folding BatchNorm into the convolution that feeds it, for inference: in eval mode
//   BN(conv(x)) = γ·(W∗x + b − μ)/√(σ² + ε) + β = (s·W)∗x + s·(b − μ) + β,   s = γ/√(σ² + ε),
// so the conv takes weights s·W and bias s·(b − μ) + β, and the BN becomes the identity. This
// removes one full read and write of every folded activation (darknet's
// denormalize_convolutional_layer). The pairs are found by tracing one forward
// (layers/dataflow_trace.h): a BatchNorm2d whose input is exactly the output of a Conv2d (the same
// tensor) is folded into it when nothing else — no other module, no functional op — reads that
// conv output. Parameters change in place, so fold a copy of a trained model (or reload its
// weights afterwards) if you still need to train it.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct FoldReport {
  int folded = 0;      // conv→BN pairs merged
  int left_alone = 0;  // BatchNorm2d modules that were not folded (no conv right before them)
  std::vector<std::string> unfolded;  // their paths
};

// Runs `net` once on zeros of `input_shape` to find the pairs, then folds them. The net must be
// in eval mode (folding uses the running statistics).
FoldReport fold_batchnorm(Module& net, const Shape& input_shape);

}  // namespace rtseg
