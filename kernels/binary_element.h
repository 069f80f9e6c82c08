// The broadcast arithmetic's math, written once for both backends: each op is a type whose
// apply(a, b) the CPU loops (kernels/cpu/elementwise.h, kernels/cpu_fast/strided_loops.h) and
// the CUDA kernel (kernels/cuda/elementwise.cu) call, so no kernel switches on the op per element.
// RTSEG_BINARY_ELEMENTS lists them for the CUDA instantiations.
#pragma once

#include "kernels/host_device.h"

namespace rtseg::binary {

struct Add {
  static constexpr const char* kName = "add";
  template <typename T>
  RTSEG_HOST_DEVICE static T apply(T a, T b) {
    return a + b;
  }
};

struct Sub {
  static constexpr const char* kName = "sub";
  template <typename T>
  RTSEG_HOST_DEVICE static T apply(T a, T b) {
    return a - b;
  }
};

struct Mul {
  static constexpr const char* kName = "mul";
  template <typename T>
  RTSEG_HOST_DEVICE static T apply(T a, T b) {
    return a * b;
  }
};

struct Div {
  static constexpr const char* kName = "div";
  template <typename T>
  RTSEG_HOST_DEVICE static T apply(T a, T b) {
    return a / b;
  }
};

}  // namespace rtseg::binary

#define RTSEG_BINARY_ELEMENTS(X) X(Add) X(Sub) X(Mul) X(Div)
