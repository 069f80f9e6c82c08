// Resize kernels. Launch shape: one thread per element of the written tensor, a 2-D grid of
// (column blocks) × (rows of all planes) so the plane/row split costs one division per thread
// and each thread computes its column's tap (or source range) once. The per-element arithmetic
// is kernels/cpu/resize.h's host-device functions, whose products and sums round once each (the
// __f*_rn intrinsics keep nvcc from fusing them into fmas) in the CPU reference's order, so
// forward and backward reproduce the CPU results exactly; the gathers themselves are checked
// against the CPU scatter on the CPU (tests/test_resize.cpp).
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/resize.h"

namespace rtseg::cuda {

namespace {

constexpr int kColumnThreads = 128;

// Covers `rows` × `cols` with one thread per element.
struct RowGrid {
  dim3 grid, block;
};

RowGrid row_grid(int64_t rows, int64_t cols) {
  RowGrid r;
  r.block = dim3(kColumnThreads);
  r.grid = dim3(static_cast<unsigned>((cols + kColumnThreads - 1) / kColumnThreads),
                static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
  return r;
}

#define RTSEG_ROW_LOOP(row, rows) for (int64_t row = blockIdx.y; row < (rows); row += gridDim.y)

template <typename T>
__global__ void bilinear_forward_kernel(T* out, const T* in, cpu::ResizeGeometry g, T scale_h,
                                        T scale_w, bool ac) {
  const int64_t ox = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (ox >= g.out_w) return;
  const cpu::LinearTap<T> x = cpu::linear_tap(ox, scale_w, g.in_w, ac);
  RTSEG_ROW_LOOP(row, g.planes * g.out_h) {
    const int64_t p = row / g.out_h, oy = row - p * g.out_h;
    const cpu::LinearTap<T> y = cpu::linear_tap(oy, scale_h, g.in_h, ac);
    out[row * g.out_w + ox] = cpu::bilinear_sample(in + p * g.in_h * g.in_w, g.in_w, y, x);
  }
}

template <typename T>
__global__ void bilinear_backward_kernel(T* grad_in, const T* grad_out, cpu::ResizeGeometry g,
                                         T scale_h, T scale_w, bool ac) {
  const int64_t ix = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (ix >= g.in_w) return;
  const cpu::TapRange xs = cpu::linear_sources(ix, scale_w, g.in_w, g.out_w, ac);
  RTSEG_ROW_LOOP(row, g.planes * g.in_h) {
    const int64_t p = row / g.in_h, iy = row - p * g.in_h;
    const cpu::TapRange ys = cpu::linear_sources(iy, scale_h, g.in_h, g.out_h, ac);
    grad_in[row * g.in_w + ix] = cpu::bilinear_input_grad(grad_out + p * g.out_h * g.out_w, g,
                                                          scale_h, scale_w, ac, iy, ix, ys, xs);
  }
}

template <typename T>
__global__ void nearest_forward_kernel(T* out, const T* in, cpu::ResizeGeometry g, float scale_h,
                                       float scale_w) {
  const int64_t ox = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (ox >= g.out_w) return;
  const int64_t sx = cpu::nearest_tap(ox, scale_w, g.in_w, g.out_w);
  RTSEG_ROW_LOOP(row, g.planes * g.out_h) {
    const int64_t p = row / g.out_h, oy = row - p * g.out_h;
    const int64_t sy = cpu::nearest_tap(oy, scale_h, g.in_h, g.out_h);
    out[row * g.out_w + ox] = in[(p * g.in_h + sy) * g.in_w + sx];
  }
}

template <typename T>
__global__ void nearest_backward_kernel(T* grad_in, const T* grad_out, cpu::ResizeGeometry g,
                                        float scale_h, float scale_w) {
  const int64_t ix = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (ix >= g.in_w) return;
  const cpu::TapRange xs = cpu::nearest_sources(ix, scale_w, g.in_w, g.out_w);
  RTSEG_ROW_LOOP(row, g.planes * g.in_h) {
    const int64_t p = row / g.in_h, iy = row - p * g.in_h;
    const cpu::TapRange ys = cpu::nearest_sources(iy, scale_h, g.in_h, g.out_h);
    grad_in[row * g.in_w + ix] =
        cpu::nearest_input_grad(grad_out + p * g.out_h * g.out_w, g.out_w, ys, xs);
  }
}

bool empty(const cpu::ResizeGeometry& g) {
  return g.planes == 0 || g.in_h == 0 || g.in_w == 0 || g.out_h == 0 || g.out_w == 0;
}

}  // namespace

template <typename T>
void bilinear_forward(const Exec& exec, T* out, const T* in, const cpu::ResizeGeometry& g,
                      bool align_corners) {
  if (empty(g)) return;
  const RowGrid r = row_grid(g.planes * g.out_h, g.out_w);
  RTSEG_LAUNCH(r.grid, r.block, 0, exec.stream, bilinear_forward_kernel)
  (out, in, g, cpu::linear_scale<T>(g.in_h, g.out_h, align_corners),
   cpu::linear_scale<T>(g.in_w, g.out_w, align_corners), align_corners);
  check_launch("interpolate_bilinear");
}

template <typename T>
void bilinear_backward(const Exec& exec, T* grad_in, const T* grad_out,
                       const cpu::ResizeGeometry& g, bool align_corners) {
  if (empty(g)) return;
  const RowGrid r = row_grid(g.planes * g.in_h, g.in_w);
  RTSEG_LAUNCH(r.grid, r.block, 0, exec.stream, bilinear_backward_kernel)
  (grad_in, grad_out, g, cpu::linear_scale<T>(g.in_h, g.out_h, align_corners),
   cpu::linear_scale<T>(g.in_w, g.out_w, align_corners), align_corners);
  check_launch("interpolate_bilinear backward");
}

template <typename T>
void nearest_forward(const Exec& exec, T* out, const T* in, const cpu::ResizeGeometry& g) {
  if (empty(g)) return;
  const RowGrid r = row_grid(g.planes * g.out_h, g.out_w);
  RTSEG_LAUNCH(r.grid, r.block, 0, exec.stream, nearest_forward_kernel)
  (out, in, g, cpu::nearest_scale(g.in_h, g.out_h), cpu::nearest_scale(g.in_w, g.out_w));
  check_launch("interpolate_nearest");
}

template <typename T>
void nearest_backward(const Exec& exec, T* grad_in, const T* grad_out,
                      const cpu::ResizeGeometry& g) {
  if (empty(g)) return;
  const RowGrid r = row_grid(g.planes * g.in_h, g.in_w);
  RTSEG_LAUNCH(r.grid, r.block, 0, exec.stream, nearest_backward_kernel)
  (grad_in, grad_out, g, cpu::nearest_scale(g.in_h, g.out_h), cpu::nearest_scale(g.in_w, g.out_w));
  check_launch("interpolate_nearest backward");
}

#define RTSEG_INSTANTIATE_RESIZE(T)                                                                \
  template void bilinear_forward<T>(const Exec&, T*, const T*, const cpu::ResizeGeometry&, bool);  \
  template void bilinear_backward<T>(const Exec&, T*, const T*, const cpu::ResizeGeometry&, bool); \
  template void nearest_forward<T>(const Exec&, T*, const T*, const cpu::ResizeGeometry&);         \
  template void nearest_backward<T>(const Exec&, T*, const T*, const cpu::ResizeGeometry&);
RTSEG_INSTANTIATE_RESIZE(float)
RTSEG_INSTANTIATE_RESIZE(double)

}  // namespace rtseg::cuda
