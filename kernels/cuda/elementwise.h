// CUDA entry points of the elementwise family: broadcast arithmetic, pointwise activations and
// their backward, strided copies with conversion, fills, and sums over dimensions. Pointers are
// device pointers; every call is asynchronous on the stream of `exec`. The arithmetic, the
// pointwise ops and the channel argmax have CPU twins of the same signature
// (kernels/cpu/elementwise.h); the op types (kernels/binary_element.h, kernels/unary_element.h)
// are passed as tag values.
#pragma once

#include <cstdint>

#include "kernels/binary_element.h"
#include "kernels/cuda/exec.h"
#include "kernels/strided_index.h"
#include "kernels/unary_element.h"

namespace rtseg::cuda {

// out (contiguous, n elements, shape a.size == b.size) = Op::apply(a, b), reading a and b
// through their strided views (stride 0 along broadcast dimensions); Op one of
// RTSEG_BINARY_ELEMENTS.
template <typename Op, typename T>
void broadcast_binary(const Exec& exec, Op, T* out, const T* a, const StridedShape& a_view,
                      const T* b, const StridedShape& b_view, int64_t n);

// out = Op::forward(x, param) over n contiguous elements, Op one of RTSEG_UNARY_ELEMENTS
// (kernels/unary_element.h: the same math as the CPU loop).
template <typename Op, typename T>
void unary_forward(const Exec& exec, Op, T param, T* out, const T* x, int64_t n);

// grad_in = Op::backward(x, y, grad_out, param); x or y may be null where Op does not read it.
template <typename Op, typename T>
void unary_backward(const Exec& exec, Op, T param, T* grad_in, const T* x, const T* y,
                    const T* grad_out, int64_t n);

// dst (through dst_view) = src (through src_view), converting; both views have the same sizes.
template <typename Dst, typename Src>
void strided_copy(const Exec& exec, Dst* dst, const StridedShape& dst_view, const Src* src,
                  const StridedShape& src_view, int64_t n);

template <typename T>
void fill(const Exec& exec, T* dst, int64_t n, T value);

// out[o] = Σ_r src[offset(kept, o) + offset(reduced, r)] for o < out_n (contiguous out);
// one block per output element, a fixed summation order, so results are deterministic.
template <typename T>
void sum_reduce(const Exec& exec, T* out, int64_t out_n, const T* src, const StridedShape& kept,
                const StridedShape& reduced);

// out[b, i] = argmax over k of x[b, k, i] (first maximum on ties); x is N×C×HW contiguous.
template <typename T>
void argmax_channels(const Exec& exec, int64_t* out, const T* x, int64_t n, int64_t c, int64_t hw);

}  // namespace rtseg::cuda
