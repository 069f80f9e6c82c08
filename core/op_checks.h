// Input validation shared by the ops. Each check throws an Error that starts with the op's name
// and names the offending argument, shape, dtype or device.
#pragma once

#include <initializer_list>

#include "core/tensor.h"

namespace rtseg::check {

inline void defined(const char* op, const Tensor& t, const char* name) {
  RTSEG_CHECK(t.defined(), "{}: {} is an undefined tensor", op, name);
}

inline void floating(const char* op, const Tensor& t, const char* name) {
  defined(op, t, name);
  RTSEG_CHECK(is_floating(t.dtype()), "{}: {} must be float32 or float64, got {}", op, name,
              t.describe());
}

inline void rank(const char* op, const Tensor& t, int64_t r, const char* name) {
  defined(op, t, name);
  RTSEG_CHECK(t.dim() == r, "{}: {} must have {} dimensions, got {}", op, name, r, t.describe());
}

inline void same_dtype(const char* op, const Tensor& a, const char* an, const Tensor& b,
                       const char* bn) {
  RTSEG_CHECK(a.dtype() == b.dtype(), "{}: {} is {} but {} is {}", op, an, a.describe(), bn,
              b.describe());
}

inline void same_device(const char* op, const Tensor& a, const char* an, const Tensor& b,
                        const char* bn) {
  RTSEG_CHECK(a.device() == b.device(), "{}: {} is on {} but {} is on {}", op, an, a.device().str(),
              bn, b.device().str());
}

// Same dtype and device as the reference tensor `a`.
inline void compatible(const char* op, const Tensor& a, const char* an, const Tensor& b,
                       const char* bn) {
  same_device(op, a, an, b, bn);
  same_dtype(op, a, an, b, bn);
}

inline void shape_is(const char* op, const Tensor& t, const Shape& expected, const char* name) {
  RTSEG_CHECK(t.shape() == expected, "{}: {} must have shape {}, got {}", op, name,
              shape_str(expected), t.describe());
}

// The kernels of this file's op exist for the CPU only (so far); a CUDA tensor gets a clear error.
inline void cpu_kernel(const char* op, const Tensor& t) {
  RTSEG_CHECK(t.device().is_cpu(), "{}: no kernel for {} tensors in this build", op,
              t.device().str());
}

}  // namespace rtseg::check
