// What a convolution applies to conv + bias before it stores an output: the activation fused in
// for inference (after BatchNorm is folded), the same on every backend.
#pragma once

#include "kernels/host_device.h"
#include "kernels/unary_element.h"

namespace rtseg {

enum class ConvEpilogue { None, Relu, Relu6 };

template <typename T>
RTSEG_HOST_DEVICE inline T apply_epilogue(T v, ConvEpilogue e) {
  switch (e) {
    case ConvEpilogue::None:
      return v;
    case ConvEpilogue::Relu:
      return unary::Relu::forward(v, T(0));
    case ConvEpilogue::Relu6:
      return unary::Relu6::forward(v, T(0));
  }
  return v;
}

}  // namespace rtseg
