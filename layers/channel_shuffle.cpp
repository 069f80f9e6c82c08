#include "layers/channel_shuffle.h"

#include "core/ops/shape_ops.h"

namespace rtseg {

ChannelShuffle::ChannelShuffle(int64_t groups) : groups_(groups) {
  RTSEG_CHECK(groups > 0, "ChannelShuffle: groups must be positive, got {}", groups);
}

Tensor ChannelShuffle::forward_impl(const Tensor& x) { return channel_shuffle(x, groups_); }

}  // namespace rtseg
