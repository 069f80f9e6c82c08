#include "nets/pidnet_fusion.h"

#include "core/ops.h"
#include "nets/pidnet_blocks.h"

namespace rtseg::pidnet {

PagFM::PagFM(int64_t channels, int64_t mid, Generator& gen) : channels_(channels) {
  f_x = register_module("f_x", conv_bn(channels, mid, 1, gen));
  f_y = register_module("f_y", conv_bn(channels, mid, 1, gen));
}

Tensor PagFM::forward(const Tensor& x, const Tensor& y) {
  ModuleScope scope(this);
  RTSEG_CHECK(x.dim() == 4 && y.dim() == 4 && x.size(1) == channels_ && y.size(1) == channels_ &&
                  x.size(0) == y.size(0),
              "PagFM: x and y must be N×{}×H×W with the same N, got {} and {}", channels_,
              x.describe(), y.describe());
  const int64_t h = x.size(2), w = x.size(3);
  Tensor q = interpolate_bilinear(f_y->forward(y), h, w, false);
  Tensor k = f_x->forward(x);
  Tensor sim = sigmoid(sum(mul(k, q), {1}, true));
  Tensor y_up = interpolate_bilinear(y, h, w, false);
  Tensor out = add(mul(rsub_scalar(sim, 1.0), x), mul(sim, y_up));
  scope.set_output(out);
  return out;
}

LightBag::LightBag(int64_t channels, Generator& gen) {
  conv_p = register_module("conv_p", conv_bn(channels, channels, 1, gen));
  conv_i = register_module("conv_i", conv_bn(channels, channels, 1, gen));
}

Tensor LightBag::forward(const Tensor& p, const Tensor& i, const Tensor& d) {
  ModuleScope scope(this);
  RTSEG_CHECK(p.dim() == 4 && p.shape() == i.shape() && p.shape() == d.shape(),
              "Light_Bag: p, i and d must have the same N×C×H×W shape, got {}, {} and {}",
              p.describe(), i.describe(), d.describe());
  Tensor a = sigmoid(d);
  Tensor p_add = conv_p->forward(add(mul(rsub_scalar(a, 1.0), i), p));
  Tensor i_add = conv_i->forward(add(i, mul(a, p)));
  Tensor out = add(p_add, i_add);
  scope.set_output(out);
  return out;
}

}  // namespace rtseg::pidnet
