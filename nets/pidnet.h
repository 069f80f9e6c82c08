// PIDNet (Xu et al., CVPR 2023), variant S by default, exactly as docs/pidnet-s.md describes the
// authors' code ("Forward graph"): a shared stem (conv1, layer1, layer2) to the 1/8 feature X8,
// then three branches — P (layer3_, layer4_, layer5_, fed by PagFM from I), I (layer3..layer5 +
// PAPPM) and D (layer3_d..layer5_d, fed by diff3/diff4 from I) — fused by Light-Bag into
// final_layer. The training graph (the authors' augment = True) adds seghead_p on P3' and seghead_d
// on D4'. Parameter names, shapes and registration order equal the authors' state_dict
// (tests/data/keys/pidnet_s_{infer,train}_19.tsv).
//
// What forward(x) returns: the main logits at 1/8 resolution, N × classes × ⌈⌈⌈H/2⌉/2⌉/2⌉ × (same
// for W), in both graphs — what the authors' inference graph returns and what their FPS protocol
// times. Resize them to the label size with align_corners = True (PIDNet's MODEL.ALIGN_CORNERS)
// for losses and metrics. forward_heads(x) returns every head; in the training graph forward(x)
// computes the auxiliary heads too (they are part of that graph, and summaries count them as the
// authors' thop numbers do) and drops them.
//
// Two deliberate differences from the authors' code, both invisible on their inputs:
//  - I-branch maps are resized to the actual size of the P/D maps (the authors use ⌊H/8⌋×⌊W/8⌋
//    and crash unless H and W are multiples of 8);
//  - their in-place ReLU at the entry of layer4_ / layer5_d also rectifies the tensors the
//    auxiliary heads read; here that is explicit: seghead_p sees ReLU(P3′), seghead_d ReLU(D4′).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "nets/pappm.h"
#include "nets/pidnet_blocks.h"
#include "nets/pidnet_fusion.h"

namespace rtseg {

struct PidNetConfig {
  int64_t num_classes = 19;
  bool training_graph = false;  // the authors' augment: build and run seghead_p and seghead_d
  // Variant S; M is planes = 64 (L needs DAPPM and Bag, which rtseg does not have).
  int64_t m = 2;  // blocks in I layer1/layer2 and P layer3_/layer4_
  int64_t n = 3;  // blocks in I layer3/layer4
  int64_t planes = 32;
  int64_t ppm_planes = 96;
  int64_t head_planes = 128;
  uint64_t seed = 0;  // initialisation (Kaiming-normal, fan_out, as the authors)
};

// The heads of one forward. aux_p and boundary are undefined in the inference graph.
struct PidNetHeads {
  Tensor aux_p;     // seghead_p(ReLU(P3′)): N × classes × h × w
  Tensor main;      // final_layer: N × classes × h × w
  Tensor boundary;  // seghead_d(ReLU(D4′)): N × 1 × h × w
  // [aux_p, main, boundary], the order of the authors' training-graph output.
  std::vector<Tensor> list() const { return {aux_p, main, boundary}; }
};

// "main", then "aux_p" and "boundary" where defined.
NamedTensors named_heads(const PidNetHeads& heads);

// Points of the graph where a derived net (ICFRNet) may refine a branch feature, in graph order:
// P3 = pag3 output (P3′), D3 = D3′ (after diff3), P4 = P4′, D4 = D4′, P5 = layer5_ output,
// D5 = layer5_d output. A refined feature replaces the original everywhere downstream, the
// auxiliary heads included.
enum class PidSite { P3, D3, P4, D4, P5, D5 };

struct PidNetHooks {
  // Called once with X8 (64 ch at 1/8 in S), before the branches split.
  std::function<void(const Tensor& x8)> shared;
  // Returns the feature to use instead of `feature` at `site`; `context` is the I-branch feature
  // of that stage: I3 (1/16) for P3/D3, I4 (1/32) for P4/D4, I5 (PAPPM output at 1/8) for P5/D5.
  std::function<Tensor(PidSite site, const Tensor& feature, const Tensor& context)> refine;
};

class PidNet : public Module {
 public:
  explicit PidNet(const PidNetConfig& config);
  // Main logits at 1/8 (see the file comment).
  Tensor forward_impl(const Tensor& x) override;
  // Every head of the graph this net was built with (virtual: ICFRNet adds its refinements).
  virtual PidNetHeads forward_heads(const Tensor& x);
  // "main", and in the training graph "aux_p" and "boundary".
  NamedTensors named_outputs(const Tensor& x) override;
  std::string type_name() const override { return "PIDNet"; }
  const PidNetConfig& config() const { return config_; }
  bool training_graph() const { return config_.training_graph; }

  std::shared_ptr<Sequential> conv1, layer1, layer2, layer3, layer4, layer5;
  std::shared_ptr<Sequential> compression3, compression4;
  std::shared_ptr<pidnet::PagFM> pag3, pag4;
  std::shared_ptr<Sequential> layer3_, layer4_, layer5_;
  std::shared_ptr<Module> layer3_d;  // a single BasicBlock (keys layer3_d.conv1.weight, ...)
  std::shared_ptr<Sequential> layer4_d, layer5_d;
  std::shared_ptr<Sequential> diff3, diff4;
  std::shared_ptr<pidnet::PAPPM> spp;
  std::shared_ptr<pidnet::LightBag> dfm;
  std::shared_ptr<pidnet::SegmentHead> seghead_p, seghead_d;  // null in the inference graph
  std::shared_ptr<pidnet::SegmentHead> final_layer;

 protected:
  // The whole graph with the derived net's hooks (either may be empty).
  PidNetHeads forward_with(const Tensor& x, const PidNetHooks& hooks);

 private:
  PidNetConfig config_;
};

}  // namespace rtseg
