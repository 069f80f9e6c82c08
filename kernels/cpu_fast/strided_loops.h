// Elementwise loops over strided views for the fast CPU backend: the shape is collapsed (adjacent
// dimensions that are contiguous in every operand merge, size-1 dimensions drop), the innermost
// dimension becomes a row with one stride per operand — a plain vectorisable loop when the
// strides are 1 (or 0 for a broadcast scalar) — and rows are spread over the thread pool in
// shape-fixed groups. The per-element function is the reference's, so results are the same bits
// as the reference loops for any thread count. Header-only: instantiated in core with the op.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kernels/cpu_fast/exec.h"
#include "kernels/cpu_fast/thread_pool.h"
#include "kernels/strided_index.h"

namespace rtseg::cpu_fast {

// A shape and K operands' strides, collapsed; the last dimension is the row.
template <size_t K>
struct RowPlan {
  std::vector<int64_t> shape;                   // outer dims..., row length last
  std::array<std::vector<int64_t>, K> strides;  // per operand, same rank as shape
  int64_t rows() const {
    int64_t r = 1;
    for (size_t d = 0; d + 1 < shape.size(); ++d) r *= shape[d];
    return r;
  }
  int64_t row_length() const { return shape.empty() ? 1 : shape.back(); }
};

template <size_t K>
RowPlan<K> plan_rows(const std::vector<int64_t>& shape,
                     const std::array<const std::vector<int64_t>*, K>& strides) {
  RowPlan<K> plan;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !plan.shape.empty();
    for (size_t k = 0; k < K && merge; ++k) {
      merge = plan.strides[k].back() == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      plan.shape.back() *= shape[d];
      for (size_t k = 0; k < K; ++k) plan.strides[k].back() = (*strides[k])[d];
    } else {
      plan.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) plan.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (plan.shape.empty()) {  // a single element
    plan.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) plan.strides[k].push_back(0);
  }
  return plan;
}

// Calls row(offsets, length, row_strides) for every row of the plan, in parallel groups of rows
// of about `grain` elements; offsets are each operand's element offset of the row's start.
template <size_t K, typename RowFn>
void for_each_row(const RowPlan<K>& plan, int64_t grain, RowFn row) {
  const int64_t rows = plan.rows(), length = plan.row_length();
  const size_t outer = plan.shape.size() - 1;
  std::array<int64_t, K> inner{};
  for (size_t k = 0; k < K; ++k) inner[k] = plan.strides[k].back();
  const int64_t rows_per_task = grain / length > 1 ? grain / length : 1;
  parallel_ranges(rows, rows_per_task, [&](int64_t r0, int64_t r1) {
    // Offsets of row r0 from its multi-index, then an odometer over the outer dimensions.
    std::vector<int64_t> index(outer, 0);
    std::array<int64_t, K> at{};
    int64_t rest = r0;
    for (size_t d = outer; d-- > 0;) {
      index[d] = rest % plan.shape[d];
      rest /= plan.shape[d];
      for (size_t k = 0; k < K; ++k) at[k] += index[d] * plan.strides[k][d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      row(at, length, inner);
      for (size_t d = outer; d-- > 0;) {
        if (++index[d] < plan.shape[d]) {
          for (size_t k = 0; k < K; ++k) at[k] += plan.strides[k][d];
          break;
        }
        for (size_t k = 0; k < K; ++k) at[k] -= plan.strides[k][d] * (plan.shape[d] - 1);
        index[d] = 0;
      }
    }
  });
}

// Elements per task: enough to hide the dispatch (a few µs of streaming work).
constexpr int64_t kElementwiseGrain = int64_t{1} << 15;

// out (contiguous, `shape`) = f(a, b) with a and b read through broadcast strides.
template <typename T, typename F>
void broadcast_binary(T* out, const T* a, const T* b, const std::vector<int64_t>& shape,
                      const std::vector<int64_t>& a_strides, const std::vector<int64_t>& b_strides,
                      F f) {
  std::vector<int64_t> out_strides(shape.size());
  int64_t step = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    out_strides[d] = step;
    step *= shape[d];
  }
  if (step == 0) return;
  const RowPlan<3> plan = plan_rows<3>(shape, {&out_strides, &a_strides, &b_strides});
  for_each_row(plan, kElementwiseGrain,
               [&](const std::array<int64_t, 3>& at, int64_t n, const std::array<int64_t, 3>& s) {
                 T* o = out + at[0];
                 const T* pa = a + at[1];
                 const T* pb = b + at[2];
                 if (s[1] == 1 && s[2] == 1) {
                   for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i], pb[i]);
                 } else if (s[1] == 1 && s[2] == 0) {
                   const T v = *pb;
                   for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i], v);
                 } else if (s[1] == 0 && s[2] == 1) {
                   const T u = *pa;
                   for (int64_t i = 0; i < n; ++i) o[i] = f(u, pb[i]);
                 } else {
                   for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i * s[1]], pb[i * s[2]]);
                 }
               });
}

// The entry point for the fast backend's context, with the reference's signature
// (kernels/cpu/elementwise.h): the row loops above with Op's arithmetic.
template <typename Op, typename T>
void broadcast_binary(const Exec&, Op, T* out, const T* a, const StridedShape& a_view, const T* b,
                      const StridedShape& b_view, int64_t /*n*/) {
  const std::vector<int64_t> shape(a_view.size, a_view.size + a_view.rank);
  const std::vector<int64_t> a_strides(a_view.stride, a_view.stride + a_view.rank);
  const std::vector<int64_t> b_strides(b_view.stride, b_view.stride + b_view.rank);
  broadcast_binary(out, a, b, shape, a_strides, b_strides,
                   [](T u, T v) { return Op::apply(u, v); });
}

// dst (through dst_strides) = src (through src_strides), converting; same shape.
template <typename Dst, typename Src>
void strided_copy(Dst* dst, const std::vector<int64_t>& dst_strides, const Src* src,
                  const std::vector<int64_t>& src_strides, const std::vector<int64_t>& shape) {
  for (int64_t d : shape) {
    if (d == 0) return;
  }
  const RowPlan<2> plan = plan_rows<2>(shape, {&dst_strides, &src_strides});
  for_each_row(plan, kElementwiseGrain,
               [&](const std::array<int64_t, 2>& at, int64_t n, const std::array<int64_t, 2>& s) {
                 Dst* o = dst + at[0];
                 const Src* i = src + at[1];
                 if (s[0] == 1 && s[1] == 1) {
                   for (int64_t j = 0; j < n; ++j) o[j] = static_cast<Dst>(i[j]);
                 } else if (s[0] == 1 && s[1] == 0) {
                   const Dst v = static_cast<Dst>(*i);
                   for (int64_t j = 0; j < n; ++j) o[j] = v;
                 } else {
                   for (int64_t j = 0; j < n; ++j) o[j * s[0]] = static_cast<Dst>(i[j * s[1]]);
                 }
               });
}

}  // namespace rtseg::cpu_fast
