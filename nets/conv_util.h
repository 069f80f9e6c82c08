// Shorthand for building Conv2d layers inside the nets.
#pragma once

#include <memory>

#include "layers/conv2d.h"

namespace rtseg {

inline std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int64_t kernel, Generator& gen,
                                         int64_t stride = 1, int64_t padding = 0,
                                         int64_t dilation = 1, int64_t groups = 1,
                                         bool bias = false) {
  Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = kernel;
  o.stride = stride;
  o.padding = padding;
  o.dilation = dilation;
  o.groups = groups;
  o.bias = bias;
  return std::make_shared<Conv2d>(o, gen);
}

}  // namespace rtseg
