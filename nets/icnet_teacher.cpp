#include "nets/icnet_teacher.h"

#include "core/autograd.h"
#include "core/ops.h"
#include "core/profile.h"
#include "layers/activation.h"
#include "nets/conv_util.h"

namespace rtseg {

namespace icnet {

BasicBlock::BasicBlock(int64_t cin, int64_t cout, int64_t stride, Generator& gen) {
  conv1 = register_module("conv1", make_conv(cin, cout, 3, gen, stride, 1));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(cout));
  conv2 = register_module("conv2", make_conv(cout, cout, 3, gen, 1, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(cout));
  if (stride != 1 || cin != cout) {
    downsample = register_module("downsample", std::make_shared<Sequential>());
    downsample->push_back(make_conv(cin, cout, 1, gen, stride));
    downsample->push_back(std::make_shared<BatchNorm2d>(cout));
  }
}

Tensor BasicBlock::forward_impl(const Tensor& x) {
  Tensor y = bn2->forward(conv2->forward(relu(bn1->forward(conv1->forward(x)))));
  return relu(add(y, downsample ? downsample->forward(x) : x));
}

std::shared_ptr<Sequential> resnet_layer(int64_t cin, int64_t cout, int64_t stride,
                                         Generator& gen) {
  auto layer = std::make_shared<Sequential>();
  layer->push_back(std::make_shared<BasicBlock>(cin, cout, stride, gen));
  layer->push_back(std::make_shared<BasicBlock>(cout, cout, 1, gen));
  return layer;
}

Tensor MaxPool3x3s2::forward_impl(const Tensor& x) {
  Pool2dParams p;
  p.kernel = {3, 3};
  p.stride = {2, 2};
  p.padding = {1, 1};
  return max_pool2d(x, p);
}

Slam::Slam(int64_t spatial, Generator& gen) : spatial_(spatial) {
  linear = register_module("linear", std::make_shared<Sequential>());
  linear->push_back(std::make_shared<Linear>(spatial * spatial, 512, true, gen));
  linear->push_back(std::make_shared<ReLU>());
  linear->push_back(std::make_shared<Linear>(512, 1, true, gen));
  linear->push_back(std::make_shared<Sigmoid>());
}

Tensor Slam::forward_impl(const Tensor& x) {
  RTSEG_CHECK(x.dim() == 4, "SLAM: input must be N×C×H×W, got {}", x.describe());
  const int64_t n = x.size(0), c = x.size(1);
  const bool sized = x.size(2) == spatial_ && x.size(3) == spatial_;
  const Tensor layout = sized ? x : interpolate_bilinear(x, spatial_, spatial_, true);
  // One scalar per (image, channel) from that channel's spatial layout.
  const Tensor scale = linear->forward(reshape(layout, {n * c, spatial_ * spatial_}));
  return mul(x, reshape(scale, {n, c, 1, 1}));
}

ConvBnRelu::ConvBnRelu(int64_t cin, int64_t cout, Generator& gen) {
  conv = register_module("conv", make_conv(cin, cout, 3, gen, 1, 1, 1, 1, true));
  bn = register_module("bn", std::make_shared<BatchNorm2d>(cout));
}

Tensor ConvBnRelu::forward_impl(const Tensor& x) { return relu(bn->forward(conv->forward(x))); }

UpConvBnRelu::UpConvBnRelu(int64_t size, int64_t cin, int64_t cout, Generator& gen) : size_(size) {
  conv = register_module("conv", make_conv(cin, cout, 1, gen, 1, 0, 1, 1, true));
  bn = register_module("bn", std::make_shared<BatchNorm2d>(cout));
}

Tensor UpConvBnRelu::forward_impl(const Tensor& x) {
  // align_corners = True at the same size is the identity: skip it then.
  const bool sized = x.size(2) == size_ && x.size(3) == size_;
  const Tensor up = sized ? x : interpolate_bilinear(x, size_, size_, true);
  return relu(bn->forward(conv->forward(up)));
}

ToMap::ToMap(int64_t cin, Generator& gen) {
  to_map = register_module("to_map", std::make_shared<Sequential>());
  to_map->push_back(make_conv(cin, 1, 1, gen, 1, 0, 1, 1, true));
  to_map->push_back(std::make_shared<Sigmoid>());
}

Tensor ToMap::forward_impl(const Tensor& x) { return to_map->forward(x); }

namespace {

// ResNet-18's stem and layer1: 0 conv1 7×7 s2, 1 bn1, 2 ReLU, 3 maxpool, 4 layer1.
std::shared_ptr<Sequential> resnet_stem(Generator& gen) {
  auto stem = std::make_shared<Sequential>();
  stem->push_back(make_conv(3, 64, 7, gen, 2, 3));
  stem->push_back(std::make_shared<BatchNorm2d>(64));
  stem->push_back(std::make_shared<ReLU>());
  stem->push_back(std::make_shared<MaxPool3x3s2>());
  stem->push_back(resnet_layer(64, 64, 1, gen));
  return stem;
}

}  // namespace

}  // namespace icnet

IcnetTeacher::IcnetTeacher(const IcnetTeacherOptions& options) : options_(options) {
  const int64_t s = options.input_size;
  RTSEG_CHECK(s >= 64 && s % 64 == 0, "ICNet: input_size must be a positive multiple of 64, got {}",
              s);
  Generator gen(options.seed);
  using icnet::Slam;
  b1_1 = register_module("b1_1", icnet::resnet_stem(gen));
  b1_1_slam = register_module("b1_1_slam", std::make_shared<Slam>(32, gen));
  b1_2 = register_module("b1_2", icnet::resnet_layer(64, 128, 2, gen));
  b1_2_slam = register_module("b1_2_slam", std::make_shared<Slam>(32, gen));
  b2_1 = register_module("b2_1", icnet::resnet_stem(gen));
  b2_1_slam = register_module("b2_1_slam", std::make_shared<Slam>(32, gen));
  b2_2 = register_module("b2_2", icnet::resnet_layer(64, 128, 2, gen));
  b2_2_slam = register_module("b2_2_slam", std::make_shared<Slam>(32, gen));
  b2_3 = register_module("b2_3", icnet::resnet_layer(128, 256, 2, gen));
  b2_3_slam = register_module("b2_3_slam", std::make_shared<Slam>(16, gen));
  b2_4 = register_module("b2_4", icnet::resnet_layer(256, 512, 2, gen));
  b2_4_slam = register_module("b2_4_slam", std::make_shared<Slam>(8, gen));
  up1 = register_module("up1", std::make_shared<icnet::UpConvBnRelu>(s / 8, 128, 256, gen));
  up2 = register_module("up2", std::make_shared<icnet::UpConvBnRelu>(s / 8, 512, 256, gen));
  to_map_f = register_module("to_map_f", std::make_shared<icnet::ConvBnRelu>(512, 512, gen));
  to_map_f_slam = register_module("to_map_f_slam", std::make_shared<Slam>(32, gen));
  to_map = register_module("to_map", std::make_shared<icnet::ToMap>(512, gen));
  to_score_f = register_module("to_score_f", std::make_shared<icnet::ConvBnRelu>(512, 512, gen));
  to_score_f_slam = register_module("to_score_f_slam", std::make_shared<Slam>(32, gen));
  head = register_module("head", std::make_shared<Sequential>());
  head->push_back(std::make_shared<Linear>(512, 512, true, gen));
  head->push_back(std::make_shared<ReLU>());
  head->push_back(std::make_shared<Linear>(512, 1, true, gen));
  head->push_back(std::make_shared<Sigmoid>());
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(1, 1));
}

Tensor IcnetTeacher::features(const Tensor& x) {
  const int64_t s = options_.input_size;
  RTSEG_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == s && x.size(3) == s,
              "ICNet: input must be N×3×{}×{} (resize crops with teacher_complexity), got {}", s, s,
              x.describe());
  const Tensor context_input = interpolate_bilinear(x, s / 2, s / 2, true);
  Tensor detail = b1_2_slam->forward(b1_2->forward(b1_1_slam->forward(b1_1->forward(x))));
  Tensor context =
      b2_2_slam->forward(b2_2->forward(b2_1_slam->forward(b2_1->forward(context_input))));
  context = b2_4_slam->forward(b2_4->forward(b2_3_slam->forward(b2_3->forward(context))));
  return concat({up1->forward(detail), up2->forward(context)}, 1);
}

Tensor IcnetTeacher::forward_impl(const Tensor& x) {
  return to_map->forward(to_map_f_slam->forward(to_map_f->forward(features(x))));
}

IcnetTeacher::Outputs IcnetTeacher::forward_with_score(const Tensor& x) {
  ModuleScope scope(this);
  const Tensor f = features(x);
  Outputs out;
  out.map = to_map->forward(to_map_f_slam->forward(to_map_f->forward(f)));
  const Tensor pooled = avgpool->forward(to_score_f_slam->forward(to_score_f->forward(f)));
  out.score = reshape(head->forward(reshape(pooled, {x.size(0), 512})), {x.size(0)});
  scope.set_output(out.map);
  return out;
}

namespace {

// Restores a module's train/eval flag on scope exit (also when the forward throws).
class TrainingFlagGuard {
 public:
  explicit TrainingFlagGuard(Module& m) : module_(m), was_training_(m.is_training()) {}
  ~TrainingFlagGuard() { module_.train(was_training_); }
  TrainingFlagGuard(const TrainingFlagGuard&) = delete;
  TrainingFlagGuard& operator=(const TrainingFlagGuard&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace

Tensor teacher_complexity(IcnetTeacher& teacher, const Tensor& crops) {
  RTSEG_CHECK(crops.defined() && crops.dim() == 4 && crops.size(1) == 3,
              "teacher_complexity: crops must be N×3×H×W, got {}",
              crops.defined() ? crops.describe() : std::string("an undefined tensor"));
  TrainingFlagGuard restore(teacher);
  teacher.eval();
  autograd::NoGradGuard no_grad;
  const int64_t s = teacher.input_size(), h = crops.size(2), w = crops.size(3);
  const DType dtype = teacher.b1_1_slam->linear->parameters().front().dtype();
  const Tensor x = crops.detach().to(dtype);
  // align_corners = False at the same size is the identity, so equal sizes skip the resizes.
  const Tensor input = h == s && w == s ? x : interpolate_bilinear(x, s, s, false);
  const Tensor map = teacher.forward(input);
  const bool same = map.size(2) == h && map.size(3) == w;
  return (same ? map : interpolate_bilinear(map, h, w, false)).detach();
}

}  // namespace rtseg
