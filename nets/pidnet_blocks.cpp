#include "nets/pidnet_blocks.h"

#include <cmath>

#include "core/ops.h"
#include "nets/conv_util.h"

namespace rtseg::pidnet {

namespace {

std::shared_ptr<Sequential> projection(int64_t cin, int64_t cout, int64_t stride, Generator& gen) {
  auto s = std::make_shared<Sequential>();
  s->push_back(make_conv(cin, cout, 1, gen, stride));
  s->push_back(std::make_shared<BatchNorm2d>(cout));
  return s;
}

std::shared_ptr<Module> make_block(BlockKind kind, int64_t cin, int64_t planes, int64_t stride,
                                   bool downsample, bool no_relu, Generator& gen) {
  if (kind == BlockKind::Basic)
    return std::make_shared<BasicBlock>(cin, planes, stride, downsample, no_relu, gen);
  return std::make_shared<Bottleneck>(cin, planes, stride, downsample, no_relu, gen);
}

// The join's conv may take it only while nothing else is fused into it: its epilogue must apply
// after the sum.
bool fuse_residual_into(Module& block, Conv2d& conv, const BatchNorm2d& bn, bool no_relu,
                        bool& fused) {
  if (fused || block.is_training() || !bn.is_folded() || conv.epilogue() != ConvEpilogue::None)
    return false;
  conv.set_epilogue(no_relu ? ConvEpilogue::None : ConvEpilogue::Relu);
  fused = true;
  return true;
}

int64_t expansion_of(BlockKind kind) {
  return kind == BlockKind::Basic ? BasicBlock::expansion : Bottleneck::expansion;
}

}  // namespace

BasicBlock::BasicBlock(int64_t cin, int64_t planes, int64_t stride, bool with_downsample,
                       bool no_relu, Generator& gen)
    : no_relu_(no_relu) {
  RTSEG_CHECK(with_downsample || (stride == 1 && cin == planes),
              "BasicBlock: {} -> {} channels with stride {} needs a projection", cin, planes,
              stride);
  conv1 = register_module("conv1", make_conv(cin, planes, 3, gen, stride, 1));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  relu1 = register_module("relu1", std::make_shared<ReLU>());
  conv2 = register_module("conv2", make_conv(planes, planes, 3, gen, 1, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (with_downsample)
    downsample = register_module("downsample", projection(cin, planes, stride, gen));
}

Tensor BasicBlock::forward_impl(const Tensor& x) {
  const Tensor h = relu1->forward(bn1->forward(conv1->forward(x)));
  const Tensor identity = downsample ? downsample->forward(x) : x;
  if (residual_fused_) return conv2->forward_add(h, identity);
  const Tensor out = add(bn2->forward(conv2->forward(h)), identity);
  return no_relu_ ? out : relu(out);
}

bool BasicBlock::fuse_residual() {
  return fuse_residual_into(*this, *conv2, *bn2, no_relu_, residual_fused_);
}

Bottleneck::Bottleneck(int64_t cin, int64_t planes, int64_t stride, bool with_downsample,
                       bool no_relu, Generator& gen)
    : no_relu_(no_relu) {
  RTSEG_CHECK(with_downsample || (stride == 1 && cin == planes * expansion),
              "Bottleneck: {} -> {} channels with stride {} needs a projection", cin,
              planes * expansion, stride);
  conv1 = register_module("conv1", make_conv(cin, planes, 1, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  relu1 = register_module("relu1", std::make_shared<ReLU>());
  conv2 = register_module("conv2", make_conv(planes, planes, 3, gen, stride, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  relu2 = register_module("relu2", std::make_shared<ReLU>());
  conv3 = register_module("conv3", make_conv(planes, planes * expansion, 1, gen));
  bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * expansion));
  if (with_downsample)
    downsample = register_module("downsample", projection(cin, planes * expansion, stride, gen));
}

Tensor Bottleneck::forward_impl(const Tensor& x) {
  Tensor h = relu1->forward(bn1->forward(conv1->forward(x)));
  h = relu2->forward(bn2->forward(conv2->forward(h)));
  const Tensor identity = downsample ? downsample->forward(x) : x;
  if (residual_fused_) return conv3->forward_add(h, identity);
  const Tensor out = add(bn3->forward(conv3->forward(h)), identity);
  return no_relu_ ? out : relu(out);
}

bool Bottleneck::fuse_residual() {
  return fuse_residual_into(*this, *conv3, *bn3, no_relu_, residual_fused_);
}

std::shared_ptr<Sequential> make_layer(BlockKind kind, int64_t cin, int64_t planes, int64_t count,
                                       int64_t stride, Generator& gen) {
  RTSEG_CHECK(count >= 1, "make_layer: needs at least one block, got {}", count);
  const int64_t cout = planes * expansion_of(kind);
  auto layer = std::make_shared<Sequential>();
  // Block 0 keeps the block type's default ending: BasicBlock ends with ReLU, Bottleneck does not.
  layer->push_back(make_block(kind, cin, planes, stride, stride != 1 || cin != cout,
                              kind == BlockKind::Bottleneck, gen));
  for (int64_t i = 1; i < count; ++i)
    layer->push_back(make_block(kind, cout, planes, 1, false, i == count - 1, gen));
  return layer;
}

std::shared_ptr<Module> make_single_layer(BlockKind kind, int64_t cin, int64_t planes,
                                          Generator& gen) {
  return make_block(kind, cin, planes, 1, cin != planes * expansion_of(kind), true, gen);
}

SegmentHead::SegmentHead(int64_t cin, int64_t mid, int64_t cout, Generator& gen) {
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(cin));
  conv1 = register_module("conv1", make_conv(cin, mid, 3, gen, 1, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(mid));
  conv2 = register_module("conv2", make_conv(mid, cout, 1, gen, 1, 0, 1, 1, true));
}

Tensor SegmentHead::forward_impl(const Tensor& x) {
  Tensor h = conv1->forward(relu(bn1->forward(x)));
  return conv2->forward(relu(bn2->forward(h)));
}

std::shared_ptr<Sequential> conv_bn(int64_t cin, int64_t cout, int64_t kernel, Generator& gen,
                                    int64_t padding) {
  auto s = std::make_shared<Sequential>();
  s->push_back(make_conv(cin, cout, kernel, gen, 1, padding));
  s->push_back(std::make_shared<BatchNorm2d>(cout));
  return s;
}

void kaiming_init_convs(Module& root, Generator& gen) {
  for (const auto& [path, m] : root.named_modules()) {
    if (auto* conv = dynamic_cast<Conv2d*>(m)) {
      conv->weight.copy_from(
          kaiming_normal(conv->weight.shape(), gen, FanMode::FanOut, std::sqrt(2.0)));
    }
  }
}

}  // namespace rtseg::pidnet
