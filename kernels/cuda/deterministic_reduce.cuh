// Deterministic reductions to a few scalars per segment, for the losses: a fixed grid (a function
// of the length only) of blocks that each fold a grid-stride slice of the elements, then one block
// per segment that folds the block partials in index order. The summation order therefore never
// depends on timing (no atomics), so a loss is bit-for-bit repeatable run to run. Accumulators
// are double whatever the element type: the losses average up to ~10⁷ per-pixel terms, and the
// CPU references accumulate in double as well.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/runtime/stream.h"

namespace rtseg::cuda::reduce {

struct Sum {
  template <typename T>
  __device__ static T identity() {
    return T(0);
  }
  template <typename T>
  __device__ static T apply(T a, T b) {
    return a + b;
  }
};

// std::max's rule (a < b ? b : a), so a NaN first operand survives as it does on the CPU.
struct Max {
  template <typename T>
  __device__ static T identity() {
    return -INFINITY;
  }
  template <typename T>
  __device__ static T apply(T a, T b) {
    return a < b ? b : a;
  }
};

// Op-reduction of `v` over the block, returned to every thread. blockDim.x must be a multiple of
// 32 (≤ 1024) and every thread of the block must call it (it synchronises).
template <typename Op, typename T>
__device__ T block_reduce(T v) {
  __shared__ T partial[32];
  __shared__ T result;
  for (int o = 16; o > 0; o >>= 1) v = Op::apply(v, __shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x >> 5;
    v = lane < warps ? partial[lane] : Op::template identity<T>();
    for (int o = 16; o > 0; o >>= 1) v = Op::apply(v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) result = v;
  }
  __syncthreads();
  v = result;
  __syncthreads();  // partial[] and result may be reused by the next call
  return v;
}

template <int K>
struct Values {
  double v[K];
};

constexpr int kReduceThreads = 256;
constexpr int kMaxReduceBlocks = 256;  // per segment: enough to fill an H100, few partials to fold

inline int blocks_for_length(int64_t len) {
  const int64_t b = (len + kReduceThreads - 1) / kReduceThreads;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(b, kMaxReduceBlocks)));
}

// Doubles of scratch that run() needs for `segments` segments of K values.
inline int64_t partials_size(int64_t segments, int k) { return segments * kMaxReduceBlocks * k; }

// f(segment, i) -> Values<K> for element i < len of a segment (blockIdx.y).
template <int K, typename Op, typename Element>
__global__ void partials_kernel(double* partials, int64_t len, Element f) {
  const int64_t seg = blockIdx.y;
  double acc[K];
  for (int k = 0; k < K; ++k) acc[k] = Op::template identity<double>();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < len;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const Values<K> v = f(seg, i);
    for (int k = 0; k < K; ++k) acc[k] = Op::apply(acc[k], v.v[k]);
  }
  for (int k = 0; k < K; ++k) {
    const double r = block_reduce<Op>(acc[k]);
    if (threadIdx.x == 0) partials[(seg * gridDim.x + blockIdx.x) * K + k] = r;
  }
}

// One block per segment; fin(segment, totals) runs on its thread 0.
template <int K, typename Op, typename Finish>
__global__ void finish_kernel(const double* partials, int blocks, Finish fin) {
  const int64_t seg = blockIdx.x;
  Values<K> total;
  for (int k = 0; k < K; ++k) {
    double acc = Op::template identity<double>();
    for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
      acc = Op::apply(acc, partials[(seg * blocks + b) * K + k]);
    }
    total.v[k] = block_reduce<Op>(acc);
  }
  if (threadIdx.x == 0) fin(seg, total);
}

// Reduces f over [0, len) for each of `segments` segments (≤ 65535) and hands the totals to fin
// on the device. `partials` holds partials_size(segments, K) doubles. Asynchronous on `stream`.
template <int K, typename Op, typename Element, typename Finish>
void run(double* partials, int64_t segments, int64_t len, Element f, Finish fin, Stream stream,
         const char* where) {
  const int blocks = blocks_for_length(len);
  RTSEG_LAUNCH(dim3(blocks, static_cast<unsigned>(segments)), kReduceThreads, 0, stream,
               partials_kernel<K, Op>)
  (partials, len, f);
  check_launch(where);
  RTSEG_LAUNCH(static_cast<unsigned>(segments), kReduceThreads, 0, stream, finish_kernel<K, Op>)
  (partials, blocks, fin);
  check_launch(where);
}

}  // namespace rtseg::cuda::reduce
