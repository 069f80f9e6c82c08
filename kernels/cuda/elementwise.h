// CUDA entry points of the elementwise family: broadcast arithmetic, pointwise activations and
// their backward, strided copies with conversion, fills, and sums over dimensions. Pointers are
// device pointers; every call is asynchronous on `stream`.
#pragma once

#include <cstdint>

#include "kernels/cuda/runtime/stream.h"
#include "kernels/strided_index.h"
#include "kernels/unary_element.h"

namespace rtseg::cuda {

enum class BinaryOp { Add, Sub, Mul, Div };

// out (contiguous, n elements, shape a.size == b.size) = a ∘ b, reading a and b through their
// strided views (stride 0 along broadcast dimensions).
template <typename T>
void broadcast_binary(BinaryOp op, T* out, const T* a, const StridedShape& a_view, const T* b,
                      const StridedShape& b_view, int64_t n, Stream stream);

// out = Op::forward(x, param) over n contiguous elements, Op one of RTSEG_UNARY_ELEMENTS
// (kernels/unary_element.h: the same math as the CPU loop).
template <typename Op, typename T>
void unary(T param, T* out, const T* x, int64_t n, Stream stream);

// grad_in = Op::backward(x, y, grad_out, param); x or y may be null where Op does not read it.
template <typename Op, typename T>
void unary_backward(T param, T* grad_in, const T* x, const T* y, const T* grad_out, int64_t n,
                    Stream stream);

// dst (through dst_view) = src (through src_view), converting; both views have the same sizes.
template <typename Dst, typename Src>
void strided_copy(Dst* dst, const StridedShape& dst_view, const Src* src,
                  const StridedShape& src_view, int64_t n, Stream stream);

template <typename T>
void fill(T* dst, int64_t n, T value, Stream stream);

// out[o] = Σ_r src[offset(kept, o) + offset(reduced, r)] for o < out_n (contiguous out);
// one block per output element, a fixed summation order, so results are deterministic.
template <typename T>
void sum_reduce(T* out, int64_t out_n, const T* src, const StridedShape& kept,
                const StridedShape& reduced, Stream stream);

// out[b, i] = argmax over k of x[b, k, i] (first maximum on ties); x is N×C×HW contiguous.
template <typename T>
void argmax_channels(int64_t* out, const T* x, int64_t n, int64_t c, int64_t hw, Stream stream);

}  // namespace rtseg::cuda
