// The residual blocks, layer builders and segmentation head of PIDNet (docs/pidnet-s.md,
// "Building blocks"), with the authors' child names (conv1, bn1, ..., downsample.{0,1}) so that
// their checkpoints load by name. In namespace rtseg::pidnet: other nets (the IC9600 teacher's
// ResNet-18) have blocks of the same names but other rules.
#pragma once

#include <memory>

#include "core/random.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/residual_fusion.h"
#include "layers/sequential.h"

namespace rtseg::pidnet {

// 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus the identity or the projection
// `downsample` (1×1 conv with the stride → BN); a final ReLU unless no_relu. Expansion 1. The
// ReLU after bn1 is a module (relu1) so that inference fuses it into conv1.
class BasicBlock : public Module, public FusesResidual {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t cin, int64_t planes, int64_t stride, bool downsample, bool no_relu,
             Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  bool ends_with_relu() const { return !no_relu_; }
  // The join as conv2's conv2d_add, its final ReLU conv2's epilogue (bn2 folded).
  bool fuse_residual() override;

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<ReLU> relu1;
  std::shared_ptr<Sequential> downsample;  // null when the block adds its input unchanged

 private:
  bool no_relu_;
  bool residual_fused_ = false;
};

// 1×1 conv → BN → ReLU → 3×3 conv (stride) → BN → ReLU → 1×1 conv to 2·planes → BN, plus the
// identity or `downsample`; a final ReLU unless no_relu. Expansion 2. The inner ReLUs are
// modules (relu1, relu2) so that inference fuses them into conv1 and conv2.
class Bottleneck : public Module, public FusesResidual {
 public:
  static constexpr int64_t expansion = 2;
  Bottleneck(int64_t cin, int64_t planes, int64_t stride, bool downsample, bool no_relu,
             Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Bottleneck"; }
  bool ends_with_relu() const { return !no_relu_; }
  // The join as conv3's conv2d_add, its final ReLU conv3's epilogue (bn3 folded).
  bool fuse_residual() override;

  std::shared_ptr<Conv2d> conv1, conv2, conv3;
  std::shared_ptr<BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<ReLU> relu1, relu2;
  std::shared_ptr<Sequential> downsample;

 private:
  bool no_relu_;
  bool residual_fused_ = false;
};

enum class BlockKind { Basic, Bottleneck };

// The authors' _make_layer: `count` blocks cin → planes·expansion, children "0", "1", ...; block 0
// has the stride and a projection iff stride ≠ 1 or cin ≠ planes·expansion, and the block's
// default ending (BasicBlock: ReLU, Bottleneck: linear); blocks 1..count−2 end with ReLU; the last
// block (index count−1 ≥ 1) is linear.
std::shared_ptr<Sequential> make_layer(BlockKind kind, int64_t cin, int64_t planes, int64_t count,
                                       int64_t stride, Generator& gen);
// The authors' _make_single_layer: one block (stride 1, projection if needed), linear ending.
// Not wrapped in a Sequential: its keys are `<name>.conv1.weight`, ...
std::shared_ptr<Module> make_single_layer(BlockKind kind, int64_t cin, int64_t planes,
                                          Generator& gen);

// Pre-activation head: BN(cin) → ReLU → 3×3 conv cin→mid → BN(mid) → ReLU → 1×1 conv mid→cout
// with bias. No upsampling (PIDNet never sets its scale factor).
class SegmentHead : public Module {
 public:
  SegmentHead(int64_t cin, int64_t mid, int64_t cout, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "segmenthead"; }

  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Conv2d> conv1, conv2;
};

// Conv (no bias unless asked) followed by BN, as the Sequential {0: conv, 1: BN} the authors use
// for compression3/4, diff3/4, PagFM's f_x/f_y and Light-Bag's conv_p/conv_i.
std::shared_ptr<Sequential> conv_bn(int64_t cin, int64_t cout, int64_t kernel, Generator& gen,
                                    int64_t padding = 0);

// The authors' initialisation: every conv weight Kaiming-normal (fan_out, ReLU gain); BN γ = 1,
// β = 0 (already BatchNorm2d's defaults); conv biases keep PyTorch's default.
void kaiming_init_convs(Module& root, Generator& gen);

}  // namespace rtseg::pidnet
