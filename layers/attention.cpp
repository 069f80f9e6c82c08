#include "layers/attention.h"

#include "core/ops.h"
#include "layers/activation.h"
#include "layers/linear.h"

namespace rtseg {

ChannelAttention::ChannelAttention(int64_t channels, int64_t hidden, Generator& gen)
    : channels_(channels) {
  RTSEG_CHECK(channels > 0 && hidden > 0,
              "ChannelAttention: channels {} and hidden {} must be positive", channels, hidden);
  channel_excitation = register_module("channel_excitation", std::make_shared<Sequential>());
  channel_excitation->push_back(std::make_shared<Linear>(channels, hidden, true, gen));
  channel_excitation->push_back(std::make_shared<ReLU>());
  channel_excitation->push_back(std::make_shared<Linear>(hidden, channels, true, gen));
  channel_excitation->push_back(std::make_shared<Sigmoid>());
}

Tensor ChannelAttention::weights(const Tensor& x) {
  ModuleScope scope(this);
  RTSEG_CHECK(x.dim() == 4 && x.size(1) == channels_, "ChannelAttention: expected N×{}×H×W, got {}",
              channels_, x.describe());
  const int64_t n = x.size(0);
  Tensor pooled = reshape(mean(x, {2, 3}), {n, channels_});
  Tensor a = reshape(channel_excitation->forward(pooled), {n, channels_, 1, 1});
  scope.set_output(a);
  return a;
}

Tensor ChannelAttention::forward_impl(const Tensor& x) { return mul(x, weights(x)); }

SpatialAttention::SpatialAttention(int64_t guidance_channels, int64_t kernel, bool bias,
                                   bool residual, Generator& gen)
    : guidance_channels_(guidance_channels), residual_(residual) {
  RTSEG_CHECK(guidance_channels >= 0 && kernel > 0 && kernel % 2 == 1,
              "SpatialAttention: needs guidance channels >= 0 and an odd kernel, got {} and {}",
              guidance_channels, kernel);
  Conv2dOptions o;
  o.in_channels = guidance_channels + 2;
  o.out_channels = 1;
  o.kernel = kernel;
  o.padding = kernel / 2;
  o.bias = bias;
  conv = register_module("conv", std::make_shared<Conv2d>(o, gen));
}

Tensor SpatialAttention::attention_map(const Tensor& features, const Tensor& guidance) {
  RTSEG_CHECK(features.dim() == 4, "SpatialAttention: features must be N×C×H×W, got {}",
              features.describe());
  std::vector<Tensor> parts;
  if (guidance_channels_ > 0) {
    RTSEG_CHECK(guidance.defined() && guidance.dim() == 4 &&
                    guidance.size(1) == guidance_channels_ &&
                    guidance.size(0) == features.size(0) && guidance.size(2) == features.size(2) &&
                    guidance.size(3) == features.size(3),
                "SpatialAttention: guidance must be {}×{}×{}×{}, got {}", features.size(0),
                guidance_channels_, features.size(2), features.size(3), guidance.describe());
    parts.push_back(guidance);
  }
  parts.push_back(channel_max(features));
  parts.push_back(channel_mean(features));
  return sigmoid(conv->forward(concat(parts)));
}

Tensor SpatialAttention::forward(const Tensor& features, const Tensor& guidance) {
  ModuleScope scope(this);
  Tensor a = attention_map(features, guidance);
  Tensor y = mul(features, residual_ ? add_scalar(a, 1.0) : a);
  scope.set_output(y);
  return y;
}

}  // namespace rtseg
