#include "nets/pidnet.h"

#include "core/ops.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "nets/conv_util.h"

namespace rtseg {

using pidnet::BlockKind;
using pidnet::make_layer;

PidNet::PidNet(const PidNetConfig& c) : config_(c) {
  RTSEG_CHECK(c.num_classes > 0, "PIDNet: num_classes must be positive, got {}", c.num_classes);
  RTSEG_CHECK(c.m >= 1 && c.n >= 1 && c.planes > 0 && c.ppm_planes > 0 && c.head_planes > 0,
              "PIDNet: m {}, n {}, planes {}, ppm_planes {} and head_planes {} must be positive",
              c.m, c.n, c.planes, c.ppm_planes, c.head_planes);
  Generator gen(c.seed);
  const int64_t p = c.planes;
  // Registration order is the authors' (it fixes the state_dict key order).
  conv1 = register_module("conv1", std::make_shared<Sequential>());
  conv1->push_back(make_conv(3, p, 3, gen, 2, 1, 1, 1, true));
  conv1->push_back(std::make_shared<BatchNorm2d>(p));
  conv1->push_back(std::make_shared<ReLU>());
  conv1->push_back(make_conv(p, p, 3, gen, 2, 1, 1, 1, true));
  conv1->push_back(std::make_shared<BatchNorm2d>(p));
  conv1->push_back(std::make_shared<ReLU>());
  layer1 = register_module("layer1", make_layer(BlockKind::Basic, p, p, c.m, 1, gen));
  layer2 = register_module("layer2", make_layer(BlockKind::Basic, p, 2 * p, c.m, 2, gen));
  layer3 = register_module("layer3", make_layer(BlockKind::Basic, 2 * p, 4 * p, c.n, 2, gen));
  layer4 = register_module("layer4", make_layer(BlockKind::Basic, 4 * p, 8 * p, c.n, 2, gen));
  layer5 = register_module("layer5", make_layer(BlockKind::Bottleneck, 8 * p, 8 * p, 2, 2, gen));
  compression3 = register_module("compression3", pidnet::conv_bn(4 * p, 2 * p, 1, gen));
  compression4 = register_module("compression4", pidnet::conv_bn(8 * p, 2 * p, 1, gen));
  pag3 = register_module("pag3", std::make_shared<pidnet::PagFM>(2 * p, p, gen));
  pag4 = register_module("pag4", std::make_shared<pidnet::PagFM>(2 * p, p, gen));
  layer3_ = register_module("layer3_", make_layer(BlockKind::Basic, 2 * p, 2 * p, c.m, 1, gen));
  layer4_ = register_module("layer4_", make_layer(BlockKind::Basic, 2 * p, 2 * p, c.m, 1, gen));
  layer5_ = register_module("layer5_", make_layer(BlockKind::Bottleneck, 2 * p, 2 * p, 1, 1, gen));
  layer3_d =
      register_module("layer3_d", pidnet::make_single_layer(BlockKind::Basic, 2 * p, p, gen));
  layer4_d = register_module("layer4_d", make_layer(BlockKind::Bottleneck, p, p, 1, 1, gen));
  diff3 = register_module("diff3", pidnet::conv_bn(4 * p, p, 3, gen, 1));
  diff4 = register_module("diff4", pidnet::conv_bn(8 * p, 2 * p, 3, gen, 1));
  spp = register_module("spp", std::make_shared<pidnet::PAPPM>(16 * p, c.ppm_planes, 4 * p, gen));
  dfm = register_module("dfm", std::make_shared<pidnet::LightBag>(4 * p, gen));
  layer5_d =
      register_module("layer5_d", make_layer(BlockKind::Bottleneck, 2 * p, 2 * p, 1, 1, gen));
  if (c.training_graph) {
    seghead_p = register_module("seghead_p", std::make_shared<pidnet::SegmentHead>(
                                                 2 * p, c.head_planes, c.num_classes, gen));
    seghead_d =
        register_module("seghead_d", std::make_shared<pidnet::SegmentHead>(2 * p, p, 1, gen));
  }
  final_layer = register_module("final_layer", std::make_shared<pidnet::SegmentHead>(
                                                   4 * p, c.head_planes, c.num_classes, gen));
  pidnet::kaiming_init_convs(*this, gen);
}

PidNetHeads PidNet::forward_with(const Tensor& x, const PidNetHooks& hooks) {
  RTSEG_CHECK(x.dim() == 4 && x.size(1) == 3, "PIDNet: input must be N×3×H×W, got {}",
              x.describe());
  auto refine = [&](PidSite site, const Tensor& feature, const Tensor& context) {
    return hooks.refine ? hooks.refine(site, feature, context) : feature;
  };
  // Shared stem. layer1 and layer2 end linearly; the ReLUs between are the authors' self.relu.
  Tensor x8 = relu(layer2->forward(relu(layer1->forward(conv1->forward(x)))));
  if (hooks.shared) hooks.shared(x8);
  const int64_t h = x8.size(2), w = x8.size(3);  // every P/D map and every head is h × w

  // Stage 3.
  Tensor p = layer3_->forward(x8);
  Tensor d = layer3_d->forward(x8);
  Tensor i3 = relu(layer3->forward(x8));
  p = refine(PidSite::P3, pag3->forward(p, compression3->forward(i3)), i3);
  d = refine(PidSite::D3, add(d, interpolate_bilinear(diff3->forward(i3), h, w, false)), i3);
  // The authors' in-place ReLU at the entry of layer4_ also rectifies their saved temp_p.
  Tensor p3_relu = relu(p);

  // Stage 4.
  Tensor i4 = relu(layer4->forward(i3));
  p = layer4_->forward(p3_relu);
  d = layer4_d->forward(relu(d));
  p = refine(PidSite::P4, pag4->forward(p, compression4->forward(i4)), i4);
  d = refine(PidSite::D4, add(d, interpolate_bilinear(diff4->forward(i4), h, w, false)), i4);
  Tensor d4_relu = relu(d);  // likewise temp_d, through layer5_d's in-place ReLU

  // Stage 5 and fusion.
  p = layer5_->forward(relu(p));
  d = layer5_d->forward(d4_relu);
  Tensor i5 = interpolate_bilinear(spp->forward(layer5->forward(i4)), h, w, false);
  p = refine(PidSite::P5, p, i5);
  d = refine(PidSite::D5, d, i5);

  PidNetHeads heads;
  heads.main = final_layer->forward(dfm->forward(p, i5, d));
  if (config_.training_graph) {
    heads.aux_p = seghead_p->forward(p3_relu);
    heads.boundary = seghead_d->forward(d4_relu);
  }
  return heads;
}

PidNetHeads PidNet::forward_heads(const Tensor& x) { return forward_with(x, PidNetHooks{}); }

NamedTensors named_heads(const PidNetHeads& h) {
  NamedTensors out{{"main", h.main}};
  if (h.aux_p.defined()) out.emplace_back("aux_p", h.aux_p);
  if (h.boundary.defined()) out.emplace_back("boundary", h.boundary);
  return out;
}

NamedTensors PidNet::named_outputs(const Tensor& x) { return named_heads(forward_heads(x)); }

Tensor PidNet::forward_impl(const Tensor& x) { return forward_heads(x).main; }

}  // namespace rtseg
