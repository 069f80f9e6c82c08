// CIFReNet (Jiang et al., TIP 2020) exactly as the authors' code builds it (docs/cifrenet.md):
// MobileNetV2 at output stride 8 (mod1…mod8), the Long-skip Refinement Module (LRM + the sigmoid
// channel attention computed from stage 6), the Multi-scale Context Integration Module
// (`multi_scale`: three cascaded DSP blocks summed, plus an 80-channel image-level branch) and the
// grouped classifier (`final`) with ×8 bilinear upsampling. Parameter names and shapes equal the
// authors' state_dict (tests/data/keys/cifrenet_19.tsv).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "layers/attention.h"
#include "layers/sequential.h"
#include "nets/dsp.h"

namespace rtseg {

using DspDilations = std::array<std::array<int64_t, 4>, 3>;

struct CifreNetConfig {
  int64_t num_classes = 19;
  DspDilations dsp_dilations{{{1, 2, 3, 5}, {7, 9, 11, 13}, {17, 19, 21, 23}}};
  double dropout = 0.2;
  bool align_corners = true;  // the final ×8 logit upsampling (docs/cifrenet.md, "Conventions")
  uint64_t seed = 0;          // initialisation and dropout

  // The DSP dilations of the papers' three datasets.
  static DspDilations dilations_for(const std::string& dataset);
};

class MultiScaleContext : public Module {
 public:
  MultiScaleContext(int64_t channels, int64_t image_channels, const DspDilations& dilations,
                    Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "MultiScaleContext"; }
  std::shared_ptr<Sequential> pool;
  std::shared_ptr<DenseSemanticPyramid> conv_small, conv_middle, conv_larger;
};

class CifreNet : public Module {
 public:
  explicit CifreNet(const CifreNetConfig& config);
  // Logits at the input resolution (N × classes × H × W).
  Tensor forward_impl(const Tensor& x) override;
  // Logits at 1/8 resolution, before the final upsampling (what the FPS protocol times).
  Tensor forward_eighth(const Tensor& x);
  std::string type_name() const override { return "CifreNet"; }
  const CifreNetConfig& config() const { return config_; }

  std::shared_ptr<Sequential> mod1, mod3, mod4, mod5, mod6, mod7;
  std::shared_ptr<Module> mod2, mod8;  // single inverted-residual blocks
  std::shared_ptr<Sequential> LRM, final;
  std::shared_ptr<MultiScaleContext> multi_scale;
  std::shared_ptr<ChannelAttention> attention;

 private:
  CifreNetConfig config_;
};

}  // namespace rtseg
