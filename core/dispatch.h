// Runs a generic body with `scalar_t` bound to the C++ type of a runtime dtype.
//   RTSEG_DISPATCH_FLOATING(x.dtype(), "conv2d", [&] { kernel<scalar_t>(...); });
#pragma once

#include "core/dtype.h"
#include "kernels/error.h"

#define RTSEG_DISPATCH_CASE(enum_value, type, ...) \
  case enum_value: {                               \
    using scalar_t [[maybe_unused]] = type;        \
    __VA_ARGS__();                                 \
    break;                                         \
  }

#define RTSEG_DISPATCH_FLOATING(dtype, op_name, ...)                               \
  [&] {                                                                            \
    switch (dtype) {                                                               \
      RTSEG_DISPATCH_CASE(::rtseg::DType::F32, float, __VA_ARGS__)                 \
      RTSEG_DISPATCH_CASE(::rtseg::DType::F64, double, __VA_ARGS__)                \
      default:                                                                     \
        ::rtseg::fail("{}: expected a float32 or float64 tensor, got {}", op_name, \
                      ::rtseg::dtype_name(dtype));                                 \
    }                                                                              \
  }()

#define RTSEG_DISPATCH_ALL(dtype, op_name, ...)                      \
  [&] {                                                              \
    switch (dtype) {                                                 \
      RTSEG_DISPATCH_CASE(::rtseg::DType::F32, float, __VA_ARGS__)   \
      RTSEG_DISPATCH_CASE(::rtseg::DType::F64, double, __VA_ARGS__)  \
      RTSEG_DISPATCH_CASE(::rtseg::DType::I64, int64_t, __VA_ARGS__) \
      RTSEG_DISPATCH_CASE(::rtseg::DType::U8, uint8_t, __VA_ARGS__)  \
      default:                                                       \
        ::rtseg::fail("{}: unsupported dtype", op_name);             \
    }                                                                \
  }()
