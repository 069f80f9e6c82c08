// Elementwise arithmetic with NumPy/PyTorch broadcasting (shapes are aligned at the right; a
// dimension of 1 stretches). The common cases here are per-channel [1, C, 1, 1] and per-image
// [N, C, 1, 1] operands against N×C×H×W maps.
#pragma once

#include "core/tensor.h"

namespace rtseg {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);

Tensor add_scalar(const Tensor& x, double value);   // x + value
Tensor mul_scalar(const Tensor& x, double value);   // x * value
Tensor rsub_scalar(const Tensor& x, double value);  // value - x (as in 1 - sigmoid)
Tensor neg(const Tensor& x);

// Sums `x` over the broadcast dimensions so that it has `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);
// The shape that a and b broadcast to; throws naming `op` when they do not.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double v) { return add_scalar(x, v); }
inline Tensor operator*(const Tensor& x, double v) { return mul_scalar(x, v); }
inline Tensor operator*(double v, const Tensor& x) { return mul_scalar(x, v); }

}  // namespace rtseg
