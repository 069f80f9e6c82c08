// How the CUDA per-channel reductions (kernels/cuda/channel_reduce.cuh) cut a channel of an
// N×C×S tensor (element (b, k, i) at (b·C + k)·S + i) into chunks, and how a thread walks its
// share of a chunk. Plain host-device code without CUDA headers, so the CPU tests can check that
// the walk visits every element exactly once for any shape and block size.
//
// A channel's N·S values, taken in (b, i) order, are cut into `parts` contiguous chunks; the cut
// depends on the shape only (never on the device), which keeps the reductions deterministic.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/host_device.h"

namespace rtseg {

struct ChannelChunks {
  int64_t parts = 1;  // chunks (partial sums) per channel
  int64_t chunk = 0;  // values per chunk (the last one may hold fewer)
};

// Enough chunks to give the GPU ~kTargetBlocks blocks in all, but at least kMinChunk values per
// chunk so that the partials stay few; chunk lengths are multiples of `granularity` (the block
// size) so that chunks start aligned when S is large.
inline ChannelChunks plan_channel_chunks(int64_t n, int64_t c, int64_t s, int64_t granularity) {
  constexpr int64_t kMinChunk = 4096, kTargetBlocks = 1024;
  const int64_t count = n * s;
  ChannelChunks plan;
  if (count == 0 || c == 0) return plan;
  const int64_t by_size = (count + kMinChunk - 1) / kMinChunk;
  const int64_t by_blocks = std::max<int64_t>(1, (kTargetBlocks + c - 1) / c);
  const int64_t parts = std::max<int64_t>(1, std::min(by_size, by_blocks));
  plan.chunk = ((count + parts - 1) / parts + granularity - 1) / granularity * granularity;
  plan.parts = (count + plan.chunk - 1) / plan.chunk;
  return plan;
}

// The elements of chunk `part` of channel `k` that thread `thread` of `threads` visits: every
// threads-th value from the chunk's start + thread. It steps (b, i) incrementally instead of
// dividing by S for every element.
class ChunkCursor {
 public:
  RTSEG_HOST_DEVICE ChunkCursor(const ChannelChunks& plan, int64_t n, int64_t c, int64_t s,
                                int64_t k, int64_t part, int64_t thread, int64_t threads)
      : c_(c), s_(s), k_(k) {
    const int64_t count = n * s, begin = part * plan.chunk;
    end_ = begin + plan.chunk < count ? begin + plan.chunk : count;
    index_ = begin + thread;
    if (index_ < end_) {  // s ≥ 1 here
      b_ = index_ / s;
      i_ = index_ - b_ * s;
      step_b_ = threads / s;
      step_i_ = threads - step_b_ * s;
      step_ = threads;
    }
  }
  RTSEG_HOST_DEVICE bool valid() const { return index_ < end_; }
  RTSEG_HOST_DEVICE int64_t offset() const { return (b_ * c_ + k_) * s_ + i_; }
  RTSEG_HOST_DEVICE void advance() {
    index_ += step_;
    b_ += step_b_;
    i_ += step_i_;
    if (i_ >= s_) {  // i_ < 2s before this: one wrap at most
      i_ -= s_;
      ++b_;
    }
  }

 private:
  int64_t c_, s_, k_;
  int64_t index_ = 0, end_ = 0;
  int64_t b_ = 0, i_ = 0;
  int64_t step_ = 0, step_b_ = 0, step_i_ = 0;
};

}  // namespace rtseg
