#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

namespace {

template <typename Op, typename T>
__global__ void broadcast_binary_kernel(T* out, const T* a, StridedShape av, const T* b,
                                        StridedShape bv, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    out[i] = Op::apply(a[strided_offset(av, i)], b[strided_offset(bv, i)]);
  }
}

template <typename Op, typename T>
__global__ void same_shape_binary_kernel(T* out, const T* a, const T* b, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) { out[i] = Op::apply(a[i], b[i]); }
}

template <typename Op, typename T>
__global__ void unary_kernel(T p, T* out, const T* x, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) { out[i] = Op::forward(x[i], p); }
}

template <typename Op, typename T>
__global__ void unary_backward_kernel(T p, T* gi, const T* x, const T* y, const T* go, int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    gi[i] = Op::backward(Op::kReadsInput ? x[i] : T(0), Op::kReadsOutput ? y[i] : T(0), go[i], p);
  }
}

template <typename Dst, typename Src>
__global__ void strided_copy_kernel(Dst* dst, StridedShape dv, const Src* src, StridedShape sv,
                                    int64_t n) {
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    dst[strided_offset(dv, i)] = static_cast<Dst>(src[strided_offset(sv, i)]);
  }
}

template <typename T>
__global__ void fill_kernel(T* dst, int64_t n, T value) {
  RTSEG_GRID_STRIDE_LOOP(i, n) { dst[i] = value; }
}

template <typename T>
__global__ void sum_reduce_kernel(T* out, int64_t out_n, const T* src, StridedShape kept,
                                  StridedShape reduced, int64_t reduced_n) {
  for (int64_t o = blockIdx.x; o < out_n; o += gridDim.x) {
    const int64_t base = strided_offset(kept, o);
    T acc = T(0);
    for (int64_t r = threadIdx.x; r < reduced_n; r += blockDim.x) {
      acc += src[base + strided_offset(reduced, r)];
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[o] = acc;
  }
}

template <typename T>
__global__ void argmax_channels_kernel(int64_t* out, const T* x, int64_t n, int64_t c, int64_t hw) {
  RTSEG_GRID_STRIDE_LOOP(i, n * hw) {
    const int64_t b = i / hw, p = i % hw;
    const T* q = x + b * c * hw + p;
    int64_t best = 0;
    T best_value = q[0];
    for (int64_t k = 1; k < c; ++k) {
      const T v = q[k * hw];
      if (v > best_value) best = k, best_value = v;
    }
    out[i] = best;
  }
}

int64_t count(const StridedShape& s) {
  int64_t n = 1;
  for (int d = 0; d < s.rank; ++d) n *= s.size[d];
  return n;
}

bool is_dense(const StridedShape& s) {
  int64_t expected = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    if (s.size[d] != 1 && s.stride[d] != expected) return false;
    expected *= s.size[d];
  }
  return true;
}

}  // namespace

template <typename Op, typename T>
void broadcast_binary(const Exec& exec, Op, T* out, const T* a, const StridedShape& a_view,
                      const T* b, const StridedShape& b_view, int64_t n) {
  if (n == 0) return;
  if (is_dense(a_view) && is_dense(b_view)) {
    RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, same_shape_binary_kernel<Op>)
    (out, a, b, n);
  } else {
    RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, broadcast_binary_kernel<Op>)
    (out, a, a_view, b, b_view, n);
  }
  check_launch(Op::kName);
}

template <typename Op, typename T>
void unary_forward(const Exec& exec, Op, T param, T* out, const T* x, int64_t n) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, unary_kernel<Op>)(param, out, x, n);
  check_launch(Op::kName);
}

template <typename Op, typename T>
void unary_backward(const Exec& exec, Op, T param, T* grad_in, const T* x, const T* y,
                    const T* grad_out, int64_t n) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, unary_backward_kernel<Op>)
  (param, grad_in, x, y, grad_out, n);
  check_launch(Op::kName);
}

template <typename Dst, typename Src>
void strided_copy(const Exec& exec, Dst* dst, const StridedShape& dst_view, const Src* src,
                  const StridedShape& src_view, int64_t n) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, strided_copy_kernel)
  (dst, dst_view, src, src_view, n);
  check_launch("strided_copy");
}

template <typename T>
void fill(const Exec& exec, T* dst, int64_t n, T value) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, fill_kernel)(dst, n, value);
  check_launch("fill");
}

template <typename T>
void sum_reduce(const Exec& exec, T* out, int64_t out_n, const T* src, const StridedShape& kept,
                const StridedShape& reduced) {
  if (out_n == 0) return;
  const int64_t reduced_n = count(reduced);
  const int threads = reduced_n >= 1024 ? 512 : 128;
  const int blocks = static_cast<int>(std::min<int64_t>(out_n, 65535LL * 16));
  RTSEG_LAUNCH(blocks, threads, 0, exec.stream, sum_reduce_kernel)
  (out, out_n, src, kept, reduced, reduced_n);
  check_launch("sum_reduce");
}

template <typename T>
void argmax_channels(const Exec& exec, int64_t* out, const T* x, int64_t n, int64_t c, int64_t hw) {
  if (n * hw == 0) return;
  RTSEG_LAUNCH(blocks_for(n * hw), kThreads, 0, exec.stream, argmax_channels_kernel)
  (out, x, n, c, hw);
  check_launch("argmax_channels");
}

#define RTSEG_INSTANTIATE_BINARY(Op)                                                               \
  template void broadcast_binary<binary::Op, float>(const Exec&, binary::Op, float*, const float*, \
                                                    const StridedShape&, const float*,             \
                                                    const StridedShape&, int64_t);                 \
  template void broadcast_binary<binary::Op, double>(const Exec&, binary::Op, double*,             \
                                                     const double*, const StridedShape&,           \
                                                     const double*, const StridedShape&, int64_t);
RTSEG_BINARY_ELEMENTS(RTSEG_INSTANTIATE_BINARY)

#define RTSEG_INSTANTIATE_FLOATING(T)                                                  \
  template void sum_reduce<T>(const Exec&, T*, int64_t, const T*, const StridedShape&, \
                              const StridedShape&);                                    \
  template void argmax_channels<T>(const Exec&, int64_t*, const T*, int64_t, int64_t, int64_t);
RTSEG_INSTANTIATE_FLOATING(float)
RTSEG_INSTANTIATE_FLOATING(double)

#define RTSEG_INSTANTIATE_UNARY(Op, function, test_param)                                        \
  template void unary_forward<unary::Op, float>(const Exec&, unary::Op, float, float*,           \
                                                const float*, int64_t);                          \
  template void unary_forward<unary::Op, double>(const Exec&, unary::Op, double, double*,        \
                                                 const double*, int64_t);                        \
  template void unary_backward<unary::Op, float>(                                                \
      const Exec&, unary::Op, float, float*, const float*, const float*, const float*, int64_t); \
  template void unary_backward<unary::Op, double>(const Exec&, unary::Op, double, double*,       \
                                                  const double*, const double*, const double*,   \
                                                  int64_t);
RTSEG_UNARY_ELEMENTS(RTSEG_INSTANTIATE_UNARY)

#define RTSEG_INSTANTIATE_FILL(T) template void fill<T>(const Exec&, T*, int64_t, T);
RTSEG_INSTANTIATE_FILL(float)
RTSEG_INSTANTIATE_FILL(double)
RTSEG_INSTANTIATE_FILL(int64_t)
RTSEG_INSTANTIATE_FILL(uint8_t)

#define RTSEG_INSTANTIATE_COPY_FROM(D)                                                         \
  template void strided_copy<D, float>(const Exec&, D*, const StridedShape&, const float*,     \
                                       const StridedShape&, int64_t);                          \
  template void strided_copy<D, double>(const Exec&, D*, const StridedShape&, const double*,   \
                                        const StridedShape&, int64_t);                         \
  template void strided_copy<D, int64_t>(const Exec&, D*, const StridedShape&, const int64_t*, \
                                         const StridedShape&, int64_t);                        \
  template void strided_copy<D, uint8_t>(const Exec&, D*, const StridedShape&, const uint8_t*, \
                                         const StridedShape&, int64_t);
RTSEG_INSTANTIATE_COPY_FROM(float)
RTSEG_INSTANTIATE_COPY_FROM(double)
RTSEG_INSTANTIATE_COPY_FROM(int64_t)
RTSEG_INSTANTIATE_COPY_FROM(uint8_t)

}  // namespace rtseg::cuda
