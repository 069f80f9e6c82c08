#include "nets/pappm.h"

#include "core/ops.h"
#include "core/profile.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/pooling.h"
#include "nets/conv_util.h"

namespace rtseg::pidnet {

AvgPool2d::AvgPool2d(int64_t kernel, int64_t stride, int64_t padding) {
  params_.kernel = {kernel, kernel};
  params_.stride = {stride, stride};
  params_.padding = {padding, padding};
  params_.ceil_mode = false;
  params_.count_include_pad = true;
}

Tensor AvgPool2d::forward_impl(const Tensor& x) {
  Tensor y = avg_pool2d(x, params_);
  OpCost cost{OpCost::Kind::AvgPool};
  cost.elements = y.numel();
  report_cost(cost);
  return y;
}

namespace {

// BN → ReLU → conv, the pre-activation unit every PAPPM branch ends with; `pool` (if any) first.
std::shared_ptr<Sequential> preact_branch(std::shared_ptr<Module> pool, int64_t in, int64_t out,
                                          int64_t kernel, int64_t groups, Generator& gen) {
  auto s = std::make_shared<Sequential>();
  if (pool) s->push_back(pool);
  s->push_back(std::make_shared<BatchNorm2d>(in));
  s->push_back(std::make_shared<ReLU>());
  s->push_back(make_conv(in, out, kernel, gen, 1, kernel / 2, 1, groups));
  return s;
}

}  // namespace

PAPPM::PAPPM(int64_t in, int64_t branch, int64_t out, Generator& gen) {
  // Registration order is the authors' (scale1..4 before scale0), which fixes the key order.
  scale1 = register_module(
      "scale1", preact_branch(std::make_shared<AvgPool2d>(5, 2, 2), in, branch, 1, 1, gen));
  scale2 = register_module(
      "scale2", preact_branch(std::make_shared<AvgPool2d>(9, 4, 4), in, branch, 1, 1, gen));
  scale3 = register_module(
      "scale3", preact_branch(std::make_shared<AvgPool2d>(17, 8, 8), in, branch, 1, 1, gen));
  scale4 = register_module(
      "scale4", preact_branch(std::make_shared<AdaptiveAvgPool2d>(1, 1), in, branch, 1, 1, gen));
  scale0 = register_module("scale0", preact_branch(nullptr, in, branch, 1, 1, gen));
  scale_process =
      register_module("scale_process", preact_branch(nullptr, 4 * branch, 4 * branch, 3, 4, gen));
  compression = register_module("compression", preact_branch(nullptr, 5 * branch, out, 1, 1, gen));
  shortcut = register_module("shortcut", preact_branch(nullptr, in, out, 1, 1, gen));
}

Tensor PAPPM::forward_impl(const Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  Tensor x0 = scale0->forward(x);
  std::vector<Tensor> pyramid;
  for (const auto& scale : {scale1, scale2, scale3, scale4}) {
    pyramid.push_back(add(interpolate_bilinear(scale->forward(x), h, w, false), x0));
  }
  Tensor processed = scale_process->forward(concat(pyramid));
  return add(compression->forward(concat({x0, processed})), shortcut->forward(x));
}

}  // namespace rtseg::pidnet
