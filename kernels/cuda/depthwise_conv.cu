// Depthwise conv kernels: thin __global__ wrappers around the block bodies of depthwise_conv.h
// (stage the source region, barrier, compute), and their launches.
#include "kernels/cuda/depthwise_conv.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

namespace {

// Dynamic shared memory is declared once as bytes: a templated `extern __shared__ T[]` would
// declare the same symbol with different types.
template <typename T>
__device__ T* shared_tile() {
  RTSEG_EXTERN_SHARED(unsigned char, depthwise_smem);
  return reinterpret_cast<T*>(depthwise_smem);
}

// Grid: (tiles of the output plane, input channel c, image n). The block stages the input region
// of (n, c) once and writes the tile of each of the `mult` output channels fed by c.
template <typename T, int KS>
__global__ void __launch_bounds__(kDepthwiseThreads)
    depthwise_forward_kernel(T* y, const T* x, const T* w, const T* bias, DepthwiseParams p,
                             ConvEpilogue epilogue) {
  T* smem = shared_tile<T>();
  const int c = blockIdx.y, n = blockIdx.z;
  const TileWindow t = depthwise_forward_window(p, blockIdx.x);
  const T* x_plane = x + (static_cast<int64_t>(n) * p.c + c) * p.h * p.w;
  stage_region(smem, x_plane, p.w, t, threadIdx.x, blockDim.x);
  __syncthreads();
  const int64_t out_plane = static_cast<int64_t>(p.oh) * p.ow;
  for (int j = 0; j < p.mult; ++j) {
    const int k = c * p.mult + j;
    depthwise_forward_tile<T, KS>(y + (static_cast<int64_t>(n) * p.k + k) * out_plane, smem,
                                  w + static_cast<int64_t>(k) * p.r * p.s, bias ? bias[k] : T(0),
                                  epilogue, p, t, threadIdx.x, blockDim.x);
  }
}

// Grid: (tiles of the input plane, input channel c, image n). For each output channel fed by c
// the block stages that channel's gradient region and adds its contribution to the tile.
template <typename T, int KS, int ST>
__global__ void __launch_bounds__(kDepthwiseThreads)
    depthwise_backward_data_kernel(T* dx, const T* dy, const T* w, DepthwiseParams p) {
  T* smem = shared_tile<T>();
  const int c = blockIdx.y, n = blockIdx.z;
  const TileWindow t = depthwise_backward_data_window(p, blockIdx.x);
  T* dx_plane = dx + (static_cast<int64_t>(n) * p.c + c) * p.h * p.w;
  const int64_t out_plane = static_cast<int64_t>(p.oh) * p.ow;
  for (int j = 0; j < p.mult; ++j) {
    const int k = c * p.mult + j;
    if (j > 0) __syncthreads();  // every thread is done reading the previous channel's region
    stage_region(smem, dy + (static_cast<int64_t>(n) * p.k + k) * out_plane, p.ow, t, threadIdx.x,
                 blockDim.x);
    __syncthreads();
    depthwise_backward_data_tile<T, KS, ST>(dx_plane, smem, w + static_cast<int64_t>(k) * p.r * p.s,
                                            j > 0, p, t, threadIdx.x, blockDim.x);
  }
}

void check_supported(const Conv2dGeometry& g, const DepthwiseTilePlan& plan, const char* where) {
  RTSEG_CHECK(is_depthwise(g), "{}: not a depthwise conv (C {}, groups {})", where, g.c, g.groups);
  RTSEG_CHECK(plan.fits,
              "{}: the staged tile needs {} bytes of shared memory, more than {} (kernel {}×{}, "
              "dilation ({}, {}))",
              where, plan.smem_bytes, kDepthwiseSmemBudget, g.r, g.s, g.dil_h, g.dil_w);
}

dim3 tile_grid(const Conv2dGeometry& g, const DepthwiseTilePlan& plan) {
  return dim3(static_cast<unsigned>(plan.tiles_h * plan.tiles_w), static_cast<unsigned>(g.c),
              static_cast<unsigned>(g.n));
}

}  // namespace

template <typename T>
void depthwise_conv2d_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g,
                              ConvEpilogue epilogue, Stream stream) {
  const DepthwiseTilePlan plan = plan_depthwise_forward(g, sizeof(T));
  check_supported(g, plan, "depthwise_conv2d_forward");
  const DepthwiseParams p = depthwise_params(g, plan);
  const dim3 grid = tile_grid(g, plan);
  if (depthwise_kernel_variant(g) == 3) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, plan.smem_bytes, stream, depthwise_forward_kernel<T, 3>)
    (y, x, w, bias, p, epilogue);
  } else {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, plan.smem_bytes, stream, depthwise_forward_kernel<T, 0>)
    (y, x, w, bias, p, epilogue);
  }
  check_launch("depthwise_conv2d_forward");
}

template <typename T>
void depthwise_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                    Stream stream) {
  const DepthwiseTilePlan plan = plan_depthwise_backward_data(g, sizeof(T));
  check_supported(g, plan, "depthwise_conv2d_backward_data");
  const DepthwiseParams p = depthwise_params(g, plan);
  const dim3 grid = tile_grid(g, plan);
  const size_t smem = plan.smem_bytes;
  const bool k3 = depthwise_kernel_variant(g) == 3;
  const int stride = depthwise_stride_variant(g);
  if (k3 && stride == 1) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 3, 1>)
    (dx, dy, w, p);
  } else if (k3 && stride == 2) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 3, 2>)
    (dx, dy, w, p);
  } else if (k3) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 3, 0>)
    (dx, dy, w, p);
  } else if (stride == 1) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 0, 1>)
    (dx, dy, w, p);
  } else if (stride == 2) {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 0, 2>)
    (dx, dy, w, p);
  } else {
    RTSEG_LAUNCH(grid, kDepthwiseThreads, smem, stream, depthwise_backward_data_kernel<T, 0, 0>)
    (dx, dy, w, p);
  }
  check_launch("depthwise_conv2d_backward_data");
}

#define RTSEG_INSTANTIATE_DEPTHWISE(T)                                                           \
  template void depthwise_conv2d_forward<T>(T*, const T*, const T*, const T*,                    \
                                            const Conv2dGeometry&, ConvEpilogue, Stream);        \
  template void depthwise_conv2d_backward_data<T>(T*, const T*, const T*, const Conv2dGeometry&, \
                                                  Stream);
RTSEG_INSTANTIATE_DEPTHWISE(float)
RTSEG_INSTANTIATE_DEPTHWISE(double)

}  // namespace rtseg::cuda
