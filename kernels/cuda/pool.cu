// Pooling kernels: one thread per output for the forward passes (a block per output for adaptive
// pooling with large windows, e.g. global pooling), one thread per input element for the backward
// gathers. Window sums accumulate in double like the CPU reference: these kernels are bound by
// memory traffic, and on sm_80/sm_90 double adds cost little next to it.
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/pool.h"
#include "kernels/pool_element.h"

namespace rtseg::cuda {

namespace {

// Splits a linear NCHW-style index into (plane, row, column) of a plane of rows×cols.
struct PlaneIndex {
  int64_t plane, row, col;
};

__device__ inline PlaneIndex split_index(int64_t i, int64_t rows, int64_t cols) {
  const int64_t col = i % cols;
  const int64_t t = i / cols;
  return {t / rows, t % rows, col};
}

template <typename T>
__global__ void avg_pool2d_forward_kernel(T* out, const T* x, Pool2dGeometry g, bool include_pad,
                                          int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(o, total) {
    const PlaneIndex at = split_index(o, g.out_h, g.out_w);
    out[o] = pool::avg_pool_output(x + at.plane * g.in_h * g.in_w, g, at.row, at.col, include_pad);
  }
}

template <typename T>
__global__ void avg_pool2d_backward_kernel(T* grad_in, const T* grad_out, Pool2dGeometry g,
                                           bool include_pad, int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(i, total) {
    const PlaneIndex at = split_index(i, g.in_h, g.in_w);
    grad_in[i] = pool::avg_pool_input_grad(grad_out + at.plane * g.out_h * g.out_w, g, at.row,
                                           at.col, include_pad);
  }
}

template <typename T>
__global__ void max_pool2d_forward_kernel(T* out, int64_t* argmax, const T* x, Pool2dGeometry g,
                                          int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(o, total) {
    const PlaneIndex at = split_index(o, g.out_h, g.out_w);
    const pool::MaxAt<T> best =
        pool::max_pool_output(x + at.plane * g.in_h * g.in_w, g, at.row, at.col);
    out[o] = best.value;
    if (argmax != nullptr) argmax[o] = best.at;
  }
}

template <typename T>
__global__ void max_pool2d_backward_kernel(T* grad_in, const T* grad_out, const int64_t* argmax,
                                           Pool2dGeometry g, int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(i, total) {
    const PlaneIndex at = split_index(i, g.in_h, g.in_w);
    const int64_t base = at.plane * g.out_h * g.out_w;
    grad_in[i] = pool::max_pool_input_grad(grad_out + base, argmax + base, g, at.row, at.col);
  }
}

template <typename T>
__global__ void adaptive_avg_forward_kernel(T* out, const T* x, pool::AdaptiveGeometry g,
                                            int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(o, total) {
    const PlaneIndex at = split_index(o, g.out_h, g.out_w);
    out[o] = pool::adaptive_avg_output(x + at.plane * g.in_h * g.in_w, g, at.row, at.col);
  }
}

// One block per output: for windows large enough that a single thread would serialise the
// reads (global pooling of a 45×80 map is 3600 of them per output).
template <typename T>
__global__ void adaptive_avg_forward_block_kernel(T* out, const T* x, pool::AdaptiveGeometry g,
                                                  int64_t total) {
  for (int64_t o = blockIdx.x; o < total; o += gridDim.x) {  // uniform per block: block_sum is safe
    const PlaneIndex at = split_index(o, g.out_h, g.out_w);
    const int64_t h0 = adaptive_start(at.row, g.in_h, g.out_h);
    const int64_t h1 = adaptive_end(at.row, g.in_h, g.out_h);
    const int64_t w0 = adaptive_start(at.col, g.in_w, g.out_w);
    const int64_t w1 = adaptive_end(at.col, g.in_w, g.out_w);
    const int64_t width = w1 - w0, area = (h1 - h0) * width;
    const T* plane = x + at.plane * g.in_h * g.in_w;
    double acc = 0.0;
    for (int64_t j = threadIdx.x; j < area; j += blockDim.x) {
      const int64_t dh = j / width;
      acc += static_cast<double>(plane[(h0 + dh) * g.in_w + w0 + (j - dh * width)]);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[o] = static_cast<T>(acc / static_cast<double>(area));
  }
}

template <typename T>
__global__ void adaptive_avg_backward_kernel(T* grad_in, const T* grad_out,
                                             pool::AdaptiveGeometry g, int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(i, total) {
    const PlaneIndex at = split_index(i, g.in_h, g.in_w);
    grad_in[i] =
        pool::adaptive_avg_input_grad(grad_out + at.plane * g.out_h * g.out_w, g, at.row, at.col);
  }
}

template <typename T>
__global__ void channel_max_forward_kernel(T* out, int64_t* argmax, const T* x, int64_t c,
                                           int64_t s, int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(o, total) {
    const int64_t b = o / s;
    const pool::MaxAt<T> best = pool::channel_max_at(x + b * c * s, c, s, o - b * s);
    out[o] = best.value;
    if (argmax != nullptr) argmax[o] = best.at;
  }
}

template <typename T>
__global__ void channel_max_backward_kernel(T* grad_in, const T* grad_out, const int64_t* argmax,
                                            int64_t c, int64_t s, int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(i, total) {
    const int64_t pos = i % s;                 // spatial position
    const int64_t img = i / (c * s);           // image
    const int64_t in_image = i - img * c * s;  // k·s + pos, the form argmax stores
    const int64_t o = img * s + pos;
    grad_in[i] = argmax[o] == in_image ? grad_out[o] : T(0);
  }
}

template <typename T>
__global__ void channel_mean_forward_kernel(T* out, const T* x, int64_t c, int64_t s,
                                            int64_t total) {
  RTSEG_GRID_STRIDE_LOOP(o, total) {
    const int64_t b = o / s;
    out[o] = pool::channel_mean_at(x + b * c * s, c, s, o - b * s);
  }
}

template <typename T>
__global__ void channel_mean_backward_kernel(T* grad_in, const T* grad_out, int64_t c, int64_t s,
                                             int64_t total) {
  const T scale = T(1) / static_cast<T>(c);  // as the reference: one rounding of 1/c, then ·
  RTSEG_GRID_STRIDE_LOOP(i, total) {
    const int64_t img = i / (c * s);
    grad_in[i] = grad_out[img * s + i % s] * scale;
  }
}

// Above this many values per window, adaptive pooling gives each output a block.
constexpr int64_t kBlockPerOutputArea = 256;

}  // namespace

template <typename T>
void avg_pool2d_forward(const Exec& exec, T* out, const T* x, const Pool2dGeometry& g,
                        bool count_include_pad) {
  const int64_t total = g.planes * g.out_h * g.out_w;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, avg_pool2d_forward_kernel)
  (out, x, g, count_include_pad, total);
  check_launch("avg_pool2d");
}

template <typename T>
void avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const Pool2dGeometry& g,
                         bool count_include_pad) {
  const int64_t total = g.planes * g.in_h * g.in_w;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, avg_pool2d_backward_kernel)
  (grad_in, grad_out, g, count_include_pad, total);
  check_launch("avg_pool2d backward");
}

template <typename T>
void max_pool2d_forward(const Exec& exec, T* out, int64_t* argmax, const T* x,
                        const Pool2dGeometry& g) {
  const int64_t total = g.planes * g.out_h * g.out_w;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, max_pool2d_forward_kernel)
  (out, argmax, x, g, total);
  check_launch("max_pool2d");
}

template <typename T>
void max_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                         const Pool2dGeometry& g) {
  const int64_t total = g.planes * g.in_h * g.in_w;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, max_pool2d_backward_kernel)
  (grad_in, grad_out, argmax, g, total);
  check_launch("max_pool2d backward");
}

template <typename T>
void adaptive_avg_pool2d_forward(const Exec& exec, T* out, const T* x, int64_t planes, int64_t in_h,
                                 int64_t in_w, int64_t out_h, int64_t out_w) {
  const pool::AdaptiveGeometry g{planes, in_h, in_w, out_h, out_w};
  const int64_t total = planes * out_h * out_w;
  if (total == 0) return;
  // A window spans at most ceil(in/out) + 1 rows (cells overlap by one) and as many columns.
  const int64_t max_area = ((in_h + out_h - 1) / out_h + 1) * ((in_w + out_w - 1) / out_w + 1);
  if (max_area >= kBlockPerOutputArea) {
    const int blocks = static_cast<int>(std::min<int64_t>(total, 1 << 20));
    RTSEG_LAUNCH(blocks, kThreads, 0, exec.stream, adaptive_avg_forward_block_kernel)
    (out, x, g, total);
  } else {
    RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, adaptive_avg_forward_kernel)
    (out, x, g, total);
  }
  check_launch("adaptive_avg_pool2d");
}

template <typename T>
void adaptive_avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t planes,
                                  int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w) {
  const pool::AdaptiveGeometry g{planes, in_h, in_w, out_h, out_w};
  const int64_t total = planes * in_h * in_w;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, adaptive_avg_backward_kernel)
  (grad_in, grad_out, g, total);
  check_launch("adaptive_avg_pool2d backward");
}

template <typename T>
void channel_max_forward(const Exec& exec, T* out, int64_t* argmax, const T* x, int64_t n,
                         int64_t c, int64_t s) {
  const int64_t total = n * s;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, channel_max_forward_kernel)
  (out, argmax, x, c, s, total);
  check_launch("channel_max");
}

template <typename T>
void channel_max_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                          int64_t n, int64_t c, int64_t s) {
  const int64_t total = n * c * s;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, channel_max_backward_kernel)
  (grad_in, grad_out, argmax, c, s, total);
  check_launch("channel_max backward");
}

template <typename T>
void channel_mean_forward(const Exec& exec, T* out, const T* x, int64_t n, int64_t c, int64_t s) {
  const int64_t total = n * s;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, channel_mean_forward_kernel)
  (out, x, c, s, total);
  check_launch("channel_mean");
}

template <typename T>
void channel_mean_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t n, int64_t c,
                           int64_t s) {
  const int64_t total = n * c * s;
  if (total == 0) return;
  RTSEG_LAUNCH(blocks_for(total), kThreads, 0, exec.stream, channel_mean_backward_kernel)
  (grad_in, grad_out, c, s, total);
  check_launch("channel_mean backward");
}

#define RTSEG_INSTANTIATE_POOL(T)                                                                  \
  template void avg_pool2d_forward<T>(const Exec&, T*, const T*, const Pool2dGeometry&, bool);     \
  template void avg_pool2d_backward<T>(const Exec&, T*, const T*, const Pool2dGeometry&, bool);    \
  template void max_pool2d_forward<T>(const Exec&, T*, int64_t*, const T*, const Pool2dGeometry&); \
  template void max_pool2d_backward<T>(const Exec&, T*, const T*, const int64_t*,                  \
                                       const Pool2dGeometry&);                                     \
  template void adaptive_avg_pool2d_forward<T>(const Exec&, T*, const T*, int64_t, int64_t,        \
                                               int64_t, int64_t, int64_t);                         \
  template void adaptive_avg_pool2d_backward<T>(const Exec&, T*, const T*, int64_t, int64_t,       \
                                                int64_t, int64_t, int64_t);                        \
  template void channel_max_forward<T>(const Exec&, T*, int64_t*, const T*, int64_t, int64_t,      \
                                       int64_t);                                                   \
  template void channel_max_backward<T>(const Exec&, T*, const T*, const int64_t*, int64_t,        \
                                        int64_t, int64_t);                                         \
  template void channel_mean_forward<T>(const Exec&, T*, const T*, int64_t, int64_t, int64_t);     \
  template void channel_mean_backward<T>(const Exec&, T*, const T*, int64_t, int64_t, int64_t);
RTSEG_INSTANTIATE_POOL(float)
RTSEG_INSTANTIATE_POOL(double)

}  // namespace rtseg::cuda
