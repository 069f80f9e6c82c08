// The pointwise ops' math, written once for both backends: each op is a type whose forward and
// backward the CPU loop (kernels/cpu/elementwise.h) and the CUDA kernel (kernels/cuda/
// elementwise.cu) both call, and whose flags tell the autograd node what to save.
//
//   forward(x, p)         y = f(x); p is the op's scalar (slope, constant) or 0
//   backward(x, y, g, p)  the input gradient g·f'(x), from x and/or y = f(x)
//   kReadsInput/Output    whether backward reads x / y (only those are kept for it)
//
// Kinks take the gradient of the left piece, as PyTorch does (relu'(0) = 0). Adding an op: a
// type here plus its line in RTSEG_UNARY_ELEMENTS, then its declaration and one-line definition
// in core/ops/activation.{h,cpp}; the kernels, the instantiations and the cross-backend tests
// (tests/test_unary_table.cpp, tests/gpu/test_gpu_elementwise.cpp) follow from the list.
#pragma once

#include <cmath>

#include "kernels/host_device.h"

namespace rtseg::unary {

struct Relu {
  static constexpr const char* kName = "relu";
  static constexpr bool kReadsInput = true, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T) {
    return x > T(0) ? x : T(0);
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T x, T, T g, T) {
    return x > T(0) ? g : T(0);
  }
};

struct Relu6 {
  static constexpr const char* kName = "relu6";
  static constexpr bool kReadsInput = true, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T) {
    return x > T(0) ? (x < T(6) ? x : T(6)) : T(0);
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T x, T, T g, T) {
    return (x > T(0) && x < T(6)) ? g : T(0);
  }
};

struct LeakyRelu {  // p = negative slope
  static constexpr const char* kName = "leaky_relu";
  static constexpr bool kReadsInput = true, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T p) {
    return x > T(0) ? x : x * p;
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T x, T, T g, T p) {
    return x > T(0) ? g : g * p;
  }
};

struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  static constexpr bool kReadsInput = false, kReadsOutput = true;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T) {
    if (x >= T(0)) return T(1) / (T(1) + RTSEG_MATH(exp)(-x));  // split by sign: no overflow
    const T e = RTSEG_MATH(exp)(x);
    return e / (T(1) + e);
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T, T y, T g, T) {
    return g * y * (T(1) - y);
  }
};

struct Tanh {
  static constexpr const char* kName = "tanh";
  static constexpr bool kReadsInput = false, kReadsOutput = true;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T) {
    return RTSEG_MATH(tanh)(x);
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T, T y, T g, T) {
    return g * (T(1) - y * y);
  }
};

// x·relu6(x + 3)/6 (MobileNetV3); the derivative is PyTorch's: 0 below −3, x/3 + 1/2 up to 3,
// then 1.
struct Hardswish {
  static constexpr const char* kName = "hardswish";
  static constexpr bool kReadsInput = true, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T) {
    return x * Relu6::forward(x + T(3), T(0)) / T(6);
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T x, T, T g, T) {
    return x < T(-3) ? T(0) : (x <= T(3) ? g * (x / T(3) + T(0.5)) : g);
  }
};

struct AddScalar {  // x + p
  static constexpr const char* kName = "add_scalar";
  static constexpr bool kReadsInput = false, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T p) {
    return x + p;
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T, T, T g, T) {
    return g;
  }
};

struct MulScalar {  // x·p
  static constexpr const char* kName = "mul_scalar";
  static constexpr bool kReadsInput = false, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T p) {
    return x * p;
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T, T, T g, T p) {
    return g * p;
  }
};

struct RSubScalar {  // p − x
  static constexpr const char* kName = "rsub_scalar";
  static constexpr bool kReadsInput = false, kReadsOutput = false;
  template <typename T>
  RTSEG_HOST_DEVICE static T forward(T x, T p) {
    return p - x;
  }
  template <typename T>
  RTSEG_HOST_DEVICE static T backward(T, T, T g, T) {
    return -g;
  }
};

}  // namespace rtseg::unary

// Every pointwise op, for the CUDA instantiations and the cross-backend test table:
// X(type, public function, scalar the tests pass (0: the op has none)).
#define RTSEG_UNARY_ELEMENTS(X)  \
  X(Relu, relu, 0.0)             \
  X(Relu6, relu6, 0.0)           \
  X(LeakyRelu, leaky_relu, 0.2)  \
  X(Sigmoid, sigmoid, 0.0)       \
  X(Tanh, tanh, 0.0)             \
  X(Hardswish, hardswish, 0.0)   \
  X(AddScalar, add_scalar, 0.75) \
  X(MulScalar, mul_scalar, -1.5) \
  X(RSubScalar, rsub_scalar, 2.5)
