#include "nets/mobilenetv2.h"

#include "core/ops/elementwise.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "nets/conv_util.h"

namespace rtseg {

InvertedResidual::InvertedResidual(int64_t cin, int64_t cout, int64_t stride, int64_t expansion,
                                   int64_t dilation, Generator& gen)
    : residual_(stride == 1 && cin == cout) {
  const int64_t hidden = cin * expansion;
  conv = register_module("conv", std::make_shared<Sequential>());
  conv->push_back(make_conv(cin, hidden, 1, gen));
  conv->push_back(std::make_shared<BatchNorm2d>(hidden));
  conv->push_back(std::make_shared<ReLU6>());
  conv->push_back(make_conv(hidden, hidden, 3, gen, stride, dilation, dilation, hidden));
  conv->push_back(std::make_shared<BatchNorm2d>(hidden));
  conv->push_back(std::make_shared<ReLU6>());
  conv->push_back(make_conv(hidden, cout, 1, gen));
  conv->push_back(std::make_shared<BatchNorm2d>(cout));
}

Tensor InvertedResidual::forward_impl(const Tensor& x) {
  Tensor y = conv->forward(x);
  return residual_ ? add(x, y) : y;
}

std::shared_ptr<Sequential> inverted_residual_stage(int64_t cin, int64_t cout, int64_t count,
                                                    int64_t stride, int64_t expansion,
                                                    int64_t dilation, Generator& gen) {
  auto stage = std::make_shared<Sequential>();
  for (int64_t i = 0; i < count; ++i) {
    stage->push_back(std::make_shared<InvertedResidual>(
        i == 0 ? cin : cout, cout, i == 0 ? stride : 1, expansion, dilation, gen));
  }
  return stage;
}

}  // namespace rtseg
