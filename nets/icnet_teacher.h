// The IC9600 complexity teacher, ICNet (docs/icfrnet.md, "IC9600 teacher"), with the authors'
// state_dict keys (tests/data/keys/ic9600_icnet.tsv: 246 entries, 20,328,074 parameters), so that
// their ck.pth, once converted by tools/convert_checkpoint.py, loads strictly by name.
//
// Input: N×3×S×S, ImageNet-normalised, S = 512 (the authors' model accepts nothing else; rtseg
// also accepts other multiples of 64, see below, for tests).
//  - detail branch on the input: ResNet-18 conv1/bn1/ReLU/maxpool/layer1 (b1_1) → SLAM(32) →
//    layer2 (b1_2) → SLAM(32)                                      → 128 @ S/8
//  - context branch on a copy resized to S/2 (bilinear, align_corners = True): b2_1 (stem +
//    layer1) → SLAM(32) → layer2 → SLAM(32) → layer3 → SLAM(16) → layer4 → SLAM(8)
//                                                                  → 512 @ S/64
//  - fusion: each branch resized to S/8 × S/8 (bilinear, align_corners = True) → 1×1 conv (bias)
//    → BN → ReLU to 256 channels (up1, up2); concatenated → 512 @ S/8
//  - map head: 3×3 conv (bias) + BN + ReLU (to_map_f) → SLAM(32) → 1×1 conv 512→1 (bias) →
//    sigmoid: the complexity map N×1×(S/8)×(S/8), in (0, 1)
//  - score head (kept for the keys; unused by ICFRNet): to_score_f → SLAM(32) → global average
//    pool → Linear 512→512 → ReLU → Linear 512→1 → sigmoid.
// SLAM(s) (spatial layout attention): resize the feature to s×s (bilinear, align_corners = True)
// unless it already is, flatten each channel's s² values, a shared MLP s²→512→ReLU→1→sigmoid
// gives one scalar per channel, which scales that channel of the *unresized* feature.
//
// With S ≠ 512 (rtseg only; the authors assert S = 512) the context copy is S/2 and the fusion
// size S/8, while the SLAM sizes stay 32/16/8 (SLAM resizes whatever it gets): the weights, keys
// and parameter count do not depend on S, so tests can run the real geometry at a smaller size.
//
// Cost at 512×512: 18.41 G conv-MACs for the map (forward), 28.34 G with the score head too
// (forward_with_score; the figure of docs/counts.md, "IC9600 ICNet teacher"). The SLAM MLPs cost
// ~0.5 G per image at any S. A CPU forward at 512 took 4.5 s here (2 shared cores), 1.6 s at 256.
#pragma once

#include <memory>

#include "core/random.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/sequential.h"

namespace rtseg {

namespace icnet {

// torchvision's ResNet BasicBlock: conv1 (3×3, stride) → bn1 → ReLU → conv2 → bn2, plus the
// identity or downsample (0: 1×1 conv with the stride, 1: BN), then ReLU. No conv biases.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t cin, int64_t cout, int64_t stride, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> downsample;  // null without projection
};

// A ResNet-18 layer: two BasicBlocks, the first with the stride (children "0", "1").
std::shared_ptr<Sequential> resnet_layer(int64_t cin, int64_t cout, int64_t stride, Generator& gen);

// torch.nn.MaxPool2d(3, 2, 1) of the ResNet stem (no keys).
class MaxPool3x3s2 : public Module {
 public:
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
};

// SLAM(s): `linear` = 0: Linear(s², 512), 1: ReLU, 2: Linear(512, 1), 3: Sigmoid.
class Slam : public Module {
 public:
  Slam(int64_t spatial, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "SLAM"; }
  int64_t spatial() const { return spatial_; }
  std::shared_ptr<Sequential> linear;

 private:
  int64_t spatial_;
};

// conv (k×k, bias) → bn → ReLU, as `to_map_f` / `to_score_f` (3×3) name them.
class ConvBnRelu : public Module {
 public:
  ConvBnRelu(int64_t cin, int64_t cout, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ConvBnReLU"; }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
};

// Bilinear resize to size × size (align_corners = True) → 1×1 conv (bias) → bn → ReLU (up1, up2).
class UpConvBnRelu : public Module {
 public:
  UpConvBnRelu(int64_t size, int64_t cin, int64_t cout, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "UpConvBnReLU"; }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;

 private:
  int64_t size_;
};

// The map output: child `to_map` = 0: 1×1 conv cin→1 (bias), 1: sigmoid.
class ToMap : public Module {
 public:
  ToMap(int64_t cin, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ToMap"; }
  std::shared_ptr<Sequential> to_map;
};

}  // namespace icnet

struct IcnetTeacherOptions {
  int64_t input_size = 512;  // S; the authors' size1 (their size2 is S/2)
  uint64_t seed = 0;         // random initialisation (a real teacher loads ck.pth over it)
};

class IcnetTeacher : public Module {
 public:
  explicit IcnetTeacher(const IcnetTeacherOptions& options = {});
  // The complexity map N×1×(S/8)×(S/8) of an N×3×S×S normalised batch.
  Tensor forward_impl(const Tensor& x) override;
  // The map and the image-level score (N).
  struct Outputs {
    Tensor map, score;
  };
  Outputs forward_with_score(const Tensor& x);
  std::string type_name() const override { return "ICNet"; }
  int64_t input_size() const { return options_.input_size; }
  int64_t map_size() const { return options_.input_size / 8; }

  // In state_dict order.
  std::shared_ptr<Sequential> b1_1, b1_2, b2_1, b2_2, b2_3, b2_4;
  std::shared_ptr<icnet::Slam> b1_1_slam, b1_2_slam, b2_1_slam, b2_2_slam, b2_3_slam, b2_4_slam;
  std::shared_ptr<icnet::UpConvBnRelu> up1, up2;
  std::shared_ptr<icnet::ConvBnRelu> to_map_f, to_score_f;
  std::shared_ptr<icnet::Slam> to_map_f_slam, to_score_f_slam;
  std::shared_ptr<icnet::ToMap> to_map;
  std::shared_ptr<Sequential> head;  // 0: Linear 512→512, 1: ReLU, 2: Linear 512→1, 3: sigmoid
  std::shared_ptr<AdaptiveAvgPool2d> avgpool;  // no keys

 private:
  Tensor features(const Tensor& x);  // the fused 512 @ S/8 feature
  IcnetTeacherOptions options_;
};

// Frozen use as the pseudo-label generator (docs/icfrnet.md, "Pseudo-labels", as the authors'
// training code does it): the N×3×H×W normalised training crops are resized to S×S (bilinear,
// align_corners = False; the aspect ratio is not kept), the teacher runs in eval mode without
// gradients, and the maps are resized back to H×W (bilinear, align_corners = False). Returns a
// detached N×1×H×W map in (0, 1); the teacher's training flag is restored afterwards.
Tensor teacher_complexity(IcnetTeacher& teacher, const Tensor& crops);

}  // namespace rtseg
