// Residual-join fusion, for inference: a block whose forward ends in
//   relu?(BN(conv(h)) + identity)
// runs it, once that BN is folded into the conv, as one conv2d_add with the ReLU as the conv's
// epilogue: the sum and the activation are applied while each output block is in cache instead
// of in two more passes over the activation. The block knows its own join, so it implements the
// rewrite; prepare_for_inference (layers/fuse_activation.h) asks every module that offers it.
#pragma once

namespace rtseg {

class FusesResidual {
 public:
  virtual ~FusesResidual() = default;
  // Switches the block to the fused join where it applies (eval mode, the BN folded, the conv
  // without an epilogue yet); returns whether it did.
  virtual bool fuse_residual() = 0;
};

}  // namespace rtseg
