#include "nets/cifrenet.h"

#include "core/ops.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/bn_prelu.h"
#include "layers/channel_shuffle.h"
#include "layers/dropout.h"
#include "layers/pooling.h"
#include "nets/conv_util.h"
#include "nets/mobilenetv2.h"

namespace rtseg {

DspDilations CifreNetConfig::dilations_for(const std::string& dataset) {
  if (dataset == "cityscapes") return {{{1, 2, 3, 5}, {7, 9, 11, 13}, {17, 19, 21, 23}}};
  if (dataset == "camvid") return {{{1, 2, 3, 5}, {5, 7, 9, 11}, {11, 13, 15, 17}}};
  if (dataset == "helen") return {{{1, 2, 3, 5}, {3, 5, 7, 11}, {7, 9, 11, 13}}};
  fail("CIFReNet: no DSP dilations for dataset '{}' (cityscapes, camvid or helen)", dataset);
}

MultiScaleContext::MultiScaleContext(int64_t channels, int64_t image_channels,
                                     const DspDilations& dilations, Generator& gen) {
  pool = register_module("pool", std::make_shared<Sequential>());
  pool->push_back(std::make_shared<AdaptiveAvgPool2d>(1, 1));
  pool->push_back(make_conv(channels, image_channels, 1, gen, 1, 0, 1, 1, true));
  pool->push_back(std::make_shared<BatchNorm2d>(image_channels));
  pool->push_back(std::make_shared<LeakyReLU>(0.1));
  conv_small = register_module("conv_small", std::make_shared<DenseSemanticPyramid>(
                                                 channels, channels, dilations[0], 4, gen));
  conv_middle = register_module("conv_middle", std::make_shared<DenseSemanticPyramid>(
                                                   channels, channels, dilations[1], 4, gen));
  conv_larger = register_module("conv_larger", std::make_shared<DenseSemanticPyramid>(
                                                   channels, channels, dilations[2], 4, gen));
}

Tensor MultiScaleContext::forward_impl(const Tensor& x) {
  Tensor s = conv_small->forward(x);
  Tensor m = conv_middle->forward(s);
  Tensor l = conv_larger->forward(m);
  Tensor image = interpolate_bilinear(pool->forward(x), x.size(2), x.size(3), true);  // a broadcast
  return concat({add(add(s, m), l), image});
}

CifreNet::CifreNet(const CifreNetConfig& c) : config_(c) {
  RTSEG_CHECK(c.num_classes > 0, "CIFReNet: num_classes must be positive, got {}", c.num_classes);
  Generator gen(c.seed);
  mod1 = register_module("mod1", std::make_shared<Sequential>());
  mod1->push_back(make_conv(3, 32, 3, gen, 2, 1));
  mod1->push_back(std::make_shared<BatchNorm2d>(32));
  mod1->push_back(std::make_shared<ReLU6>());
  mod2 = register_module("mod2", std::make_shared<InvertedResidual>(32, 16, 1, 1, 1, gen));
  mod3 = register_module("mod3", inverted_residual_stage(16, 24, 2, 2, 6, 1, gen));
  mod4 = register_module("mod4", inverted_residual_stage(24, 32, 3, 2, 6, 1, gen));
  mod5 = register_module("mod5", inverted_residual_stage(32, 64, 4, 1, 6, 2, gen));
  mod6 = register_module("mod6", inverted_residual_stage(64, 96, 3, 1, 6, 3, gen));
  mod7 = register_module("mod7", inverted_residual_stage(96, 160, 3, 1, 6, 5, gen));
  mod8 = register_module("mod8", std::make_shared<InvertedResidual>(160, 320, 1, 6, 7, gen));
  LRM = register_module("LRM", std::make_shared<Sequential>());
  LRM->push_back(make_conv(32, 32, 3, gen, 1, 1, 1, 32, true));
  LRM->push_back(std::make_shared<BNPReLU>(32));
  LRM->push_back(make_conv(32, 160, 1, gen, 1, 0, 1, 1, true));
  LRM->push_back(std::make_shared<BNPReLU>(160));
  multi_scale = register_module("multi_scale",
                                std::make_shared<MultiScaleContext>(320, 80, c.dsp_dilations, gen));
  attention = register_module("attention", std::make_shared<ChannelAttention>(160, 10, gen));
  final = register_module("final", std::make_shared<Sequential>());
  final->push_back(make_conv(400, 256, 1, gen, 1, 0, 1, 16, true));
  final->push_back(std::make_shared<ChannelShuffle>(16));
  final->push_back(std::make_shared<BatchNorm2d>(256));
  final->push_back(std::make_shared<LeakyReLU>(0.1));
  final->push_back(std::make_shared<Dropout>(c.dropout, c.seed ^ 0x5eedULL));
  final->push_back(make_conv(256, c.num_classes, 1, gen, 1, 0, 1, 1, true));
}

Tensor CifreNet::forward_eighth(const Tensor& x) {
  RTSEG_CHECK(x.dim() == 4 && x.size(1) == 3, "CIFReNet: input must be N×3×H×W, got {}",
              x.describe());
  Tensor f3 = mod4->forward(mod3->forward(mod2->forward(mod1->forward(x))));
  Tensor f6 = mod7->forward(mod6->forward(mod5->forward(f3)));
  // Long-skip refinement: the stage-3 features, refined and gated by attention from stage 6.
  Tensor refined = add(mul(LRM->forward(f3), attention->weights(f6)), f6);
  Tensor f7 = mod8->forward(refined);
  return final->forward(multi_scale->forward(f7));
}

Tensor CifreNet::forward_impl(const Tensor& x) {
  return interpolate_bilinear(forward_eighth(x), x.size(2), x.size(3), config_.align_corners);
}

}  // namespace rtseg
