// The distinct convolution shapes a net runs at a given input size, found by tracing one
// shapes-only forward (no arithmetic): what the kernel benchmark times.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct ConvShape {
  Shape input;  // N×C×H×W
  int64_t out_channels = 0, kernel = 1, stride = 1, padding = 0, dilation = 1, groups = 1;
  int count = 0;             // how many convs of the net have this shape
  std::string first_module;  // the first one, by path

  bool depthwise() const { return groups == input[1] && groups > 1; }
  std::string describe() const;  // "1×960×45×80 → 960, 3×3 s1 p5 d5 g960"
  bool same_shape(const ConvShape& o) const;
};

std::vector<ConvShape> collect_conv_shapes(Module& net, const Shape& input);

}  // namespace rtseg
