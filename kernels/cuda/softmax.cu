// Softmax kernels. Two launch shapes:
//  - one thread per row (the channel softmax of NCHW maps: threads of a warp take neighbouring
//    pixels, so every step along the dimension is a coalesced read), running the CPU
//    reference's row arithmetic (kernels/softmax_row.h: only exp/log rounding differs from it);
//  - one block per row when rows are contiguous (inner = 1) and long, where a thread per row
//    would read with a stride and serialise a long loop; block reductions (fixed order).
#include "kernels/cuda/deterministic_reduce.cuh"
#include "kernels/cuda/softmax.h"

namespace rtseg::cuda {

namespace {

// Contiguous rows at least this long get a block each.
constexpr int64_t kBlockRowLength = 128;

using softmax_row::larger;

// One thread per row, as the CPU reference (kernels/softmax_row.h).
template <typename T>
__global__ void softmax_forward_rows_kernel(T* y, const T* x, cpu::SoftmaxGeometry g,
                                            bool log_form) {
  RTSEG_GRID_STRIDE_LOOP(r, g.outer * g.inner) {
    const int64_t o = r / g.inner, i = r - o * g.inner;
    const int64_t base = o * g.dim * g.inner + i;
    softmax_row::forward(y + base, x + base, g.dim, g.inner, log_form);
  }
}

template <typename T>
__global__ void softmax_backward_rows_kernel(T* gx, const T* y, const T* gy, cpu::SoftmaxGeometry g,
                                             bool log_form) {
  RTSEG_GRID_STRIDE_LOOP(r, g.outer * g.inner) {
    const int64_t o = r / g.inner, i = r - o * g.inner;
    const int64_t base = o * g.dim * g.inner + i;
    softmax_row::backward(gx + base, y + base, gy + base, g.dim, g.inner, log_form);
  }
}

// inner == 1: row o is x[o·dim, (o+1)·dim). The loop bound is uniform per block, so every thread
// reaches the block reductions.
template <typename T>
__global__ void softmax_forward_block_kernel(T* y, const T* x, cpu::SoftmaxGeometry g,
                                             bool log_form) {
  for (int64_t o = blockIdx.x; o < g.outer; o += gridDim.x) {
    const T* xr = x + o * g.dim;
    T* yr = y + o * g.dim;
    T m = reduce::Max::identity<T>();
    for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) m = larger(m, xr[k]);
    m = reduce::block_reduce<reduce::Max>(m);
    T total = 0;
    for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) total += exp(xr[k] - m);
    total = reduce::block_reduce<reduce::Sum>(total);
    if (log_form) {
      const T log_total = log(total);
      for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) yr[k] = (xr[k] - m) - log_total;
    } else {
      for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) yr[k] = exp(xr[k] - m) / total;
    }
  }
}

template <typename T>
__global__ void softmax_backward_block_kernel(T* gx, const T* y, const T* gy,
                                              cpu::SoftmaxGeometry g, bool log_form) {
  for (int64_t o = blockIdx.x; o < g.outer; o += gridDim.x) {
    const T* yr = y + o * g.dim;
    const T* gr = gy + o * g.dim;
    T* out = gx + o * g.dim;
    T dot = 0;
    for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) {
      dot += log_form ? gr[k] : gr[k] * yr[k];
    }
    dot = reduce::block_reduce<reduce::Sum>(dot);
    for (int64_t k = threadIdx.x; k < g.dim; k += blockDim.x) {
      out[k] = log_form ? gr[k] - exp(yr[k]) * dot : yr[k] * (gr[k] - dot);
    }
  }
}

bool use_block_rows(const cpu::SoftmaxGeometry& g) {
  return g.inner == 1 && g.dim >= kBlockRowLength;
}

int row_blocks(const cpu::SoftmaxGeometry& g) {
  return static_cast<int>(std::min<int64_t>(g.outer, 65535LL * 8));
}

}  // namespace

template <typename T>
void softmax_forward(const Exec& exec, T* y, const T* x, const cpu::SoftmaxGeometry& g,
                     bool log_form) {
  if (g.dim == 0 || g.outer == 0 || g.inner == 0) return;
  if (use_block_rows(g)) {
    RTSEG_LAUNCH(row_blocks(g), reduce::kReduceThreads, 0, exec.stream,
                 softmax_forward_block_kernel)
    (y, x, g, log_form);
  } else {
    RTSEG_LAUNCH(blocks_for(g.outer * g.inner), kThreads, 0, exec.stream,
                 softmax_forward_rows_kernel)
    (y, x, g, log_form);
  }
  check_launch(log_form ? "log_softmax" : "softmax");
}

template <typename T>
void softmax_backward(const Exec& exec, T* gx, const T* y, const T* gy,
                      const cpu::SoftmaxGeometry& g, bool log_form) {
  if (g.dim == 0 || g.outer == 0 || g.inner == 0) return;
  if (use_block_rows(g)) {
    RTSEG_LAUNCH(row_blocks(g), reduce::kReduceThreads, 0, exec.stream,
                 softmax_backward_block_kernel)
    (gx, y, gy, g, log_form);
  } else {
    RTSEG_LAUNCH(blocks_for(g.outer * g.inner), kThreads, 0, exec.stream,
                 softmax_backward_rows_kernel)
    (gx, y, gy, g, log_form);
  }
  check_launch(log_form ? "log_softmax backward" : "softmax backward");
}

#define RTSEG_INSTANTIATE_SOFTMAX(T)                                                              \
  template void softmax_forward<T>(const Exec&, T*, const T*, const cpu::SoftmaxGeometry&, bool); \
  template void softmax_backward<T>(const Exec&, T*, const T*, const T*,                          \
                                    const cpu::SoftmaxGeometry&, bool);
RTSEG_INSTANTIATE_SOFTMAX(float)
RTSEG_INSTANTIATE_SOFTMAX(double)

}  // namespace rtseg::cuda
