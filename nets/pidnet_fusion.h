// PIDNet's two fusion modules (docs/pidnet-s.md, "PagFM" and "Light-Bag"), children named as
// the authors' checkpoints.
//
// PagFM (pixel-attention-guided fusion of the P branch with the compressed I branch; the
// after_relu = False, with_channel = False form PIDNet uses): q = f_y(y) resized to x, k = f_x(x),
// σ = sigmoid(Σ_c k·q) (one channel), output (1 − σ)·x + σ·resize(y).
//
// LightBag (boundary-attention-guided fusion, PIDNet-S/M): a = sigmoid(d) per channel,
// output conv_p((1 − a)·i + p) + conv_i(i + a·p), each conv_* a 1×1 conv → BN.
//
// Every internal resize is bilinear with align_corners = False, to the size of the P feature.
#pragma once

#include <memory>

#include "core/random.h"
#include "layers/sequential.h"

namespace rtseg::pidnet {

class PagFM : public Module {
 public:
  PagFM(int64_t channels, int64_t mid, Generator& gen);
  // x: N×C×h×w (P branch); y: N×C×h'×w' (I branch, any size).
  Tensor forward(const Tensor& x, const Tensor& y);
  std::string type_name() const override { return "PagFM"; }

  std::shared_ptr<Sequential> f_x, f_y;

 private:
  int64_t channels_;
};

class LightBag : public Module {
 public:
  LightBag(int64_t channels, Generator& gen);
  // p, i, d: N×C×h×w, all the same shape.
  Tensor forward(const Tensor& p, const Tensor& i, const Tensor& d);
  std::string type_name() const override { return "Light_Bag"; }

  std::shared_ptr<Sequential> conv_p, conv_i;
};

}  // namespace rtseg::pidnet
