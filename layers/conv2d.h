// Conv2d as torch.nn.Conv2d: `weight` K×(C/groups)×R×S and optional `bias` K.
#pragma once

#include "core/ops/conv.h"
#include "core/random.h"
#include "layers/module.h"

namespace rtseg {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(const Conv2dOptions& options, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  // epilogue(conv(x) + bias + residual): a residual block's fused join (layers/residual_fusion.h).
  Tensor forward_add(const Tensor& x, const Tensor& residual);
  std::string type_name() const override { return "Conv2d"; }

  const Conv2dOptions& options() const { return options_; }
  // Sets the bias values, adding a `bias` parameter if the conv had none (BN folding).
  void set_bias(const Tensor& values);
  Conv2dParams params() const;
  // The activation fused into the forward (fuse_conv_activations), None by default.
  void set_epilogue(ConvEpilogue e) { epilogue_ = e; }
  ConvEpilogue epilogue() const { return epilogue_; }
  Tensor weight, bias;  // bias undefined when options.bias is false

 private:
  Conv2dOptions options_;
  ConvEpilogue epilogue_ = ConvEpilogue::None;
};

}  // namespace rtseg
