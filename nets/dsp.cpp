#include "nets/dsp.h"

#include "core/ops.h"
#include "layers/batch_norm.h"
#include "layers/bn_prelu.h"
#include "layers/pooling.h"
#include "nets/conv_util.h"

namespace rtseg {

DenseSemanticPyramid::DenseSemanticPyramid(int64_t in, int64_t out,
                                           const std::array<int64_t, 4>& dilations, int64_t groups,
                                           Generator& gen)
    : groups_(groups), residual_(in == out) {
  RTSEG_CHECK(out % 5 == 0,
              "DenseSemanticPyramid: {} output channels do not split into 4 paths + pool", out);
  const int64_t m = out / 5;  // = round(0.2·out)
  down = register_module("down", std::make_shared<Sequential>());
  down->push_back(make_conv(in, m, 1, gen, 1, 0, 1, groups));
  down->push_back(std::make_shared<BNPReLU>(m));
  pool = register_module("pool", std::make_shared<Sequential>());
  pool->push_back(std::make_shared<AdaptiveAvgPool2d>(1, 1));
  pool->push_back(make_conv(m, m, 1, gen, 1, 0, 1, 1, true));
  pool->push_back(std::make_shared<BatchNorm2d>(m));
  for (int i = 0; i < 4; ++i) {
    auto b = std::make_shared<Sequential>();
    const int64_t d = dilations[i];
    b->push_back(make_conv(m, m, 3, gen, 1, d, d, m));
    b->push_back(std::make_shared<BNPReLU>(m));
    b->push_back(make_conv(m, m, 1, gen));
    b->push_back(std::make_shared<BatchNorm2d>(m));
    branches[i] = register_module("branch_" + std::to_string(i + 1), b);
  }
  module_act = register_module("module_act", std::make_shared<PReLU>(out));
}

Tensor DenseSemanticPyramid::forward_impl(const Tensor& x) {
  Tensor r = down->forward(x);
  std::vector<Tensor> parts;
  for (auto& b : branches) parts.push_back(b->forward(r));
  // The pooled path is 1×1; resizing it is a broadcast to R's size.
  parts.push_back(interpolate_bilinear(pool->forward(r), r.size(2), r.size(3), true));
  Tensor y = channel_shuffle(concat(parts), groups_);
  if (residual_) y = add(y, x);
  return module_act->forward(y);
}

}  // namespace rtseg
