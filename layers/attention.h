// Attention blocks.
//
// ChannelAttention (squeeze-and-excitation): global average pool -> Linear(C, C/r) -> ReLU ->
// Linear(C/r, C) -> sigmoid, giving one weight per channel. The Linear layers live in the child
// Sequential `channel_excitation` (indices 0 and 2), the names CIFReNet's checkpoints use.
//
// SpatialAttention (CBAM-style, with optional guidance channels as ICFRNet's ICGA needs):
// A = sigmoid(conv_k×k([guidance, max_c(S), mean_c(S)])) is a one-channel map; the output is
// S·A (or S·(1 + A) when residual). The conv is the child `conv`.
#pragma once

#include <memory>

#include "core/random.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace rtseg {

class ChannelAttention : public Module {
 public:
  ChannelAttention(int64_t channels, int64_t hidden, Generator& gen);
  // The N×C×1×1 channel weights computed from x.
  Tensor weights(const Tensor& x);
  // x scaled by its own channel weights.
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "ChannelAttention"; }

  std::shared_ptr<Sequential> channel_excitation;

 private:
  int64_t channels_;
};

class SpatialAttention : public Module {
 public:
  SpatialAttention(int64_t guidance_channels, int64_t kernel, bool bias, bool residual,
                   Generator& gen);
  // features: N×C×H×W; guidance: N×G×H×W (or undefined when G = 0).
  Tensor forward(const Tensor& features, const Tensor& guidance);
  // The one-channel attention map alone.
  Tensor attention_map(const Tensor& features, const Tensor& guidance);
  std::string type_name() const override { return "SpatialAttention"; }

  std::shared_ptr<Conv2d> conv;

 private:
  int64_t guidance_channels_;
  bool residual_;
};

}  // namespace rtseg
