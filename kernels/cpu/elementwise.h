// Reference elementwise loops: broadcast arithmetic (an operand stretched along a dimension has
// stride 0 there, so one odometer loop serves every case), the pointwise ops, sums over
// dimensions and the channel argmax. Each entry point has the signature of its CUDA twin
// (kernels/cuda/elementwise.h); elements (outputs, for the sums) are independent, so the
// context's ranges split them freely. The per-element math is kernels/binary_element.h and
// kernels/unary_element.h, which the CUDA kernels run too.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/binary_element.h"
#include "kernels/cpu/exec.h"
#include "kernels/strided_index.h"
#include "kernels/unary_element.h"

namespace rtseg::cpu {

// out (contiguous, n elements of a_view's shape, which is b_view's) = Op::apply(a, b), reading a
// and b through their views.
template <typename Op, typename T>
void broadcast_binary(const Exec& exec, Op, T* out, const T* a, const StridedShape& a_view,
                      const T* b, const StridedShape& b_view, int64_t n) {
  exec.for_ranges(n, grain_for(4), [&](int64_t i0, int64_t i1) {
    // An odometer from i0: each step moves both offsets by one index of the last dimension.
    const int rank = a_view.rank;
    std::vector<int64_t> index(static_cast<size_t>(rank), 0);
    for (int64_t d = rank - 1, r = i0; d >= 0; --d) {
      index[static_cast<size_t>(d)] = r % a_view.size[d];
      r /= a_view.size[d];
    }
    int64_t ia = strided_offset(a_view, i0), ib = strided_offset(b_view, i0);
    for (int64_t i = i0; i < i1; ++i) {
      out[i] = Op::apply(a[ia], b[ib]);
      for (int d = rank - 1; d >= 0; --d) {
        const size_t k = static_cast<size_t>(d);
        if (++index[k] < a_view.size[d]) {
          ia += a_view.stride[d];
          ib += b_view.stride[d];
          break;
        }
        ia -= a_view.stride[d] * (a_view.size[d] - 1);
        ib -= b_view.stride[d] * (b_view.size[d] - 1);
        index[k] = 0;
      }
    }
  });
}

// out = Op::forward(x, param) over n contiguous elements (Op: kernels/unary_element.h).
template <typename Op, typename T>
void unary_forward(const Exec& exec, Op, T param, T* out, const T* x, int64_t n) {
  exec.for_ranges(n, grain_for(1), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = Op::forward(x[i], param);
  });
}

// grad_in = Op::backward(x, y, grad_out, param); x or y may be null where Op does not read it.
template <typename Op, typename T>
void unary_backward(const Exec& exec, Op, T param, T* grad_in, const T* x, const T* y,
                    const T* grad_out, int64_t n) {
  exec.for_ranges(n, grain_for(1), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      grad_in[i] = Op::backward(Op::kReadsInput ? x[i] : T(0), Op::kReadsOutput ? y[i] : T(0),
                                grad_out[i], param);
    }
  });
}

// out[o] = Σ src over `reduced` at the offset of output o in `kept` (out_n = kept's element
// count), summed in T in row-major order of the reduced dimensions, from 0.
template <typename T>
void sum_reduce(const Exec& exec, T* out, int64_t out_n, const T* src, const StridedShape& kept,
                const StridedShape& reduced) {
  int64_t reduced_n = 1;
  for (int d = 0; d < reduced.rank; ++d) reduced_n *= reduced.size[d];
  exec.for_ranges(out_n, grain_for(reduced_n), [&](int64_t o0, int64_t o1) {
    std::vector<int64_t> index(static_cast<size_t>(reduced.rank));
    for (int64_t o = o0; o < o1; ++o) {
      const T* base = src + strided_offset(kept, o);
      T acc = T(0);
      int64_t at = 0;  // an odometer over the reduced dimensions
      std::fill(index.begin(), index.end(), 0);
      for (int64_t r = 0; r < reduced_n; ++r) {
        acc += base[at];
        for (int d = reduced.rank - 1; d >= 0; --d) {
          const size_t k = static_cast<size_t>(d);
          if (++index[k] < reduced.size[d]) {
            at += reduced.stride[d];
            break;
          }
          at -= reduced.stride[d] * (reduced.size[d] - 1);
          index[k] = 0;
        }
      }
      out[o] = acc;
    }
  });
}

// out[b, p] = the first channel of the maximum of x[b, :, p] (N×C×HW contiguous).
template <typename T>
void argmax_channels(const Exec& exec, int64_t* out, const T* x, int64_t n, int64_t c, int64_t hw) {
  exec.for_ranges(n * hw, grain_for(c), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / hw, p = i % hw;
      const T* q = x + b * c * hw + p;
      int64_t best = 0;
      for (int64_t k = 1; k < c; ++k) {
        if (q[k * hw] > q[best * hw]) best = k;
      }
      out[i] = best;
    }
  });
}

}  // namespace rtseg::cpu
