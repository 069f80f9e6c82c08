// The C++ twin of SmallNet in tools/reference/parity_small.py (same names, same graph).
#pragma once

#include "core/ops.h"
#include "layers/activation.h"
#include "layers/attention.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace rtseg::parity {

class SmallNet : public Module {
 public:
  explicit SmallNet(Generator& gen) {
    body = register_module("body", std::make_shared<Sequential>());
    body->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 8, 3, 1, 1, 1, 1, false}, gen));
    body->push_back(std::make_shared<BatchNorm2d>(8));
    body->push_back(std::make_shared<PReLU>(8));
    attention = register_module("attention", std::make_shared<ChannelAttention>(8, 2, gen));
    head = register_module("head", std::make_shared<Conv2d>(Conv2dOptions{8, 5, 1}, gen));
  }
  Tensor forward_impl(const Tensor& x) override {
    Tensor logits = head->forward(attention->forward(body->forward(x)));
    return interpolate_bilinear(logits, 2 * x.size(2), 2 * x.size(3), false);
  }
  std::string type_name() const override { return "SmallNet"; }
  std::shared_ptr<Sequential> body;
  std::shared_ptr<ChannelAttention> attention;
  std::shared_ptr<Conv2d> head;
};

}  // namespace rtseg::parity
