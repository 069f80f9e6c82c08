// ICFRNet (Zhang et al., arXiv 2408.13771) as reconstructed in docs/icfrnet.md ("Architecture",
// "ICGA"), variant A by default: PIDNet-S plus
//  - an IC branch `ic_layer`: two BasicBlocks 64→64 at 1/8 on the shared feature X8 (the make-layer
//    rule: the first ends with ReLU, the second linearly), giving the complexity feature Z;
//  - an IC head `ic_head`: ReLU → 3×3 conv 64→1 (bias) → BN(1), the complexity logit L at 1/8;
//    the complexity map is Î_c = sigmoid(bilinear(L, H×W)), align_corners = False;
//  - ICGA (`icga_p`, `icga_d`): CBAM-style spatial attention guided by Z on P5 and D5, right
//    before Light-Bag: A = sigmoid(conv3×3([Z, max_c S, mean_c S])), S′ = A·S.
// Every PIDNet-S key is unchanged and comes first in the same order; ICFRNet's own keys follow
// (`ic_layer.{0,1}.*`, `ic_head.{conv,bn}.*`, `icga_p.conv.*`, `icga_d.conv.*`: 35 entries,
// 149,737 parameters for 19 classes).
//
// The open choices #2–#7 of docs/icfrnet.md, "Open choices", are options of IcfrNetConfig; the
// defaults are variant A. forward(x) returns the main logits at 1/8 as PIDNet's does (the IC
// branch, IC head and ICGA all run: they are part of the graph ICFRNet's counts describe);
// forward_outputs(x) also returns the IC logit and the full-resolution complexity map.
#pragma once

#include <memory>

#include "layers/attention.h"
#include "nets/pidnet.h"

namespace rtseg {

struct IcfrNetConfig {
  PidNetConfig pidnet;  // classes, graph (training_graph adds PIDNet's auxiliary heads), seed

  // #2: IC head. ConvBn: ReLU → 3×3 conv (bias) → BN (variant A, keys ic_head.{conv,bn}.*);
  // SegmentHead: PIDNet's segmenthead(64, head_planes, 1) (variant B, keys
  // ic_head.{bn1,conv1,bn2,conv2}.*).
  enum class IcHead { ConvBn, SegmentHead };
  IcHead ic_head = IcHead::ConvBn;
  // #3: the complexity guidance ICGA concatenates. Features: Z, the 64-channel IC-branch output
  // (variant A); Map: sigmoid(L), the one-channel complexity map at 1/8 (variant E).
  enum class Guidance { Features, Map };
  Guidance guidance = Guidance::Features;
  // #4: the features ICGA max/mean-pools over channels. Branch: the P or D feature being refined
  // (CBAM-like, variant A); Context: the I-branch feature of the same stage (I3, I4 or I5),
  // bilinearly resized to the refined feature's size first when it differs.
  enum class Pooled { Branch, Context };
  Pooled pooled = Pooled::Branch;
  // #5: Stage5: icga_p on P5 and icga_d on D5 (variant A); Stages34: icga_p3, icga_d3, icga_p4,
  // icga_d4 after pag3 / diff3 / pag4 / diff4 (variant C). A refined P3′ / D4′ is also what
  // PIDNet's auxiliary heads then read.
  enum class Placement { Stage5, Stages34 };
  Placement placement = Placement::Stage5;
  // #6: ICGA conv kernel (3 in variant A, 7 as CBAM: variant D) and bias.
  int64_t icga_kernel = 3;
  bool icga_bias = true;
  // #7: S·(1 + A) instead of the pure gating S·A.
  bool icga_residual = false;
};

struct IcfrNetOutputs {
  PidNetHeads heads;  // as PIDNet's (auxiliary heads only in the training graph)
  Tensor ic_logits;   // L: N × 1 × h × w at 1/8, before the sigmoid
  Tensor ic_map;      // Î_c = sigmoid(bilinear(L, H × W)): N × 1 × H × W in (0, 1)
};

// ReLU → 3×3 conv → BN(1): the IC head of variant A (children `conv`, `bn`).
class IcHead : public Module {
 public:
  IcHead(int64_t channels, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ICHead"; }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
};

class IcfrNet : public PidNet {
 public:
  explicit IcfrNet(const IcfrNetConfig& config);
  IcfrNetOutputs forward_outputs(const Tensor& x);
  // Every PIDNet head with ICFRNet's refinements (the IC head runs, the full-size map is skipped).
  PidNetHeads forward_heads(const Tensor& x) override;
  // PIDNet's named heads and "ic_logits" (the full-size map is skipped).
  NamedTensors named_outputs(const Tensor& x) override;
  std::string type_name() const override { return "ICFRNet"; }
  const IcfrNetConfig& icfr_config() const { return icfr_config_; }

  std::shared_ptr<Sequential> ic_layer;
  std::shared_ptr<Module> ic_head;  // IcHead or pidnet::SegmentHead
  // Stage5: icga_p, icga_d; Stages34: icga_p3, icga_d3, icga_p4, icga_d4 (the others null).
  std::shared_ptr<SpatialAttention> icga_p, icga_d, icga_p3, icga_d3, icga_p4, icga_d4;

 private:
  IcfrNetOutputs run(const Tensor& x, bool full_map);
  std::shared_ptr<SpatialAttention> icga_at(PidSite site) const;
  Tensor refine(SpatialAttention& icga, const Tensor& feature, const Tensor& context,
                const Tensor& guidance);

  IcfrNetConfig icfr_config_;
};

}  // namespace rtseg
