// ChannelShuffle as a parameter-free module, so it can hold its index in a Sequential the way
// the authors' models place it.
#pragma once

#include "layers/module.h"

namespace rtseg {

class ChannelShuffle : public Module {
 public:
  explicit ChannelShuffle(int64_t groups);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ChannelShuffle"; }
  int64_t groups() const { return groups_; }

 private:
  int64_t groups_;
};

}  // namespace rtseg
