// Launch helpers shared by the CUDA kernels: the launch macro, grid sizing for grid-stride
// loops, strided offset computation, and a block-wide sum.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/launch_scope.h"
#include "kernels/strided_index.h"

// Every kernel launch: RTSEG_LAUNCH(grid, block, shared_bytes, stream, kernel)(args...), with the
// kernel last so that the commas of its template arguments need no parentheses. It makes the
// stream's device current for the launch and honours RTSEG_CUDA_SYNC
// (kernels/cuda/runtime/launch_scope.h); in emulation builds it is also the emulator's entry point
// (kernels/cuda/emu).
#ifdef RTSEG_CUDA_EMULATED_RUNTIME
#define RTSEG_LAUNCH(grid, block, shared_bytes, stream, ...)                    \
  for (::rtseg::cuda::LaunchScope rtseg_launch_scope_((stream), #__VA_ARGS__);  \
       rtseg_launch_scope_.pending(); rtseg_launch_scope_.finish())             \
  ::rtseg::emu::launch((grid), (block), (shared_bytes), (stream), #__VA_ARGS__, \
                       [](auto... rtseg_kernel_args_) { __VA_ARGS__(rtseg_kernel_args_...); })
// Dynamic shared memory, declared inside a device function.
#define RTSEG_EXTERN_SHARED(type, name) \
  type* name = static_cast<type*>(::rtseg::emu::dynamic_shared_memory())
#else
#define RTSEG_LAUNCH(grid, block, shared_bytes, stream, ...)                   \
  for (::rtseg::cuda::LaunchScope rtseg_launch_scope_((stream), #__VA_ARGS__); \
       rtseg_launch_scope_.pending(); rtseg_launch_scope_.finish())            \
  __VA_ARGS__<<<(grid), (block), (shared_bytes), (stream)>>>
#define RTSEG_EXTERN_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

namespace rtseg::cuda {

constexpr int kThreads = 256;

// Enough blocks to cover n elements, capped (kernels loop with a grid stride beyond that).
inline int blocks_for(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(b, 65535LL * 8)));
}

#define RTSEG_GRID_STRIDE_LOOP(i, n)                                                     \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Sum of `v` over the block; valid in thread 0. blockDim.x must be a multiple of 32, ≤ 1024.
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x >> 5;
  v = static_cast<int>(threadIdx.x) < warps ? partial[threadIdx.x] : T(0);
  if (warp == 0) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  __syncthreads();  // partial[] may be reused by a following call
  return v;
}

}  // namespace rtseg::cuda
