// Per-channel work over data laid out as N×C×S (element (b, k, i) at (b·C + k)·S + i): batch
// norm and PReLU reduce every channel over its N·S values and apply a per-channel formula to
// every element. Both do it through the helpers here.
//
// Reductions are deterministic: a channel's N·S values are cut into chunks by the shape alone
// (kernels/channel_chunks.h), one block sums each chunk with a fixed tree (block_sum) into a
// partial, and channel_total adds the partials in a fixed order, so the same input gives the
// same bits on any GPU. Sums are in double.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/channel_chunks.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::cuda {

using ChannelReducePlan = ChannelChunks;

inline ChannelReducePlan plan_channel_reduce(int64_t n, int64_t c, int64_t s) {
  return plan_channel_chunks(n, c, s, kThreads);
}

// Values per partial sum slot: a reduction adds up V quantities at once.
template <int V>
struct Sums {
  double v[V];
};

// partial[(k·parts + p)·V + j] = Σ over chunk p of channel k of quantity j, where `term`
// (a functor: term(sums, k, offset)) adds the element at `offset` into `sums`. Launch with
// kThreads threads and channel_reduce_grid(plan, c).
template <int V, typename Term>
__global__ void channel_partial_sums_kernel(double* partial, int64_t n, int64_t c, int64_t s,
                                            ChannelReducePlan plan, Term term) {
  // Both loops are uniform across the block, so every thread reaches block_sum.
  for (int64_t k = blockIdx.y; k < c; k += gridDim.y) {
    for (int64_t p = blockIdx.x; p < plan.parts; p += gridDim.x) {
      Sums<V> acc;
      for (int j = 0; j < V; ++j) acc.v[j] = 0.0;
      for (ChunkCursor at(plan, n, c, s, k, p, threadIdx.x, blockDim.x); at.valid(); at.advance()) {
        term(acc, k, at.offset());
      }
      for (int j = 0; j < V; ++j) {
        const double total = block_sum(acc.v[j]);
        if (threadIdx.x == 0) partial[(k * plan.parts + p) * V + j] = total;
      }
    }
  }
}

inline dim3 channel_reduce_grid(const ChannelReducePlan& plan, int64_t c) {
  return dim3(static_cast<unsigned>(plan.parts),
              static_cast<unsigned>(std::min<int64_t>(c, 65535)));
}

// Σ of quantity j of channel k over its partials, always in the same order.
template <int V>
__device__ inline double channel_total(const double* partial, int64_t k, int64_t parts, int j) {
  double total = 0.0;
  for (int64_t p = 0; p < parts; ++p) total += partial[(k * parts + p) * V + j];
  return total;
}

// Grid for per-element work organised by plane (b, k): blockIdx.y walks the N·C planes,
// blockIdx.x and threadIdx.x the S values of a plane, so a block reads its channel's parameters
// once and never divides per element.
inline dim3 plane_grid(int64_t planes, int64_t s) {
  const int64_t x = std::max<int64_t>(1, std::min<int64_t>((s + kThreads - 1) / kThreads, 4096));
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(std::min<int64_t>(planes, 65535)));
}

#define RTSEG_PLANE_LOOP(plane, planes) \
  for (int64_t plane = blockIdx.y; plane < (planes); plane += gridDim.y)

#define RTSEG_PLANE_ELEMENT_LOOP(i, s)                                                   \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (s); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

}  // namespace rtseg::cuda
