#include "nets/icfrnet.h"

#include "core/ops.h"
#include "nets/conv_util.h"

namespace rtseg {

IcHead::IcHead(int64_t channels, Generator& gen) {
  conv = register_module("conv", make_conv(channels, 1, 3, gen, 1, 1, 1, 1, true));
  bn = register_module("bn", std::make_shared<BatchNorm2d>(1));
}

Tensor IcHead::forward_impl(const Tensor& x) { return bn->forward(conv->forward(relu(x))); }

IcfrNet::IcfrNet(const IcfrNetConfig& c) : PidNet(c.pidnet), icfr_config_(c) {
  // A separate stream: PIDNet's own initialisation stays what it is without the additions.
  Generator gen(c.pidnet.seed ^ 0x1CF7E7ULL);
  const int64_t z_channels = 2 * c.pidnet.planes;
  ic_layer = register_module(
      "ic_layer", pidnet::make_layer(pidnet::BlockKind::Basic, z_channels, z_channels, 2, 1, gen));
  if (c.ic_head == IcfrNetConfig::IcHead::ConvBn) {
    ic_head = register_module("ic_head", std::make_shared<IcHead>(z_channels, gen));
  } else {
    ic_head = register_module(
        "ic_head", std::make_shared<pidnet::SegmentHead>(z_channels, c.pidnet.head_planes, 1, gen));
  }
  const int64_t guidance = c.guidance == IcfrNetConfig::Guidance::Features ? z_channels : 1;
  auto icga = [&](const char* name) {
    return register_module(name, std::make_shared<SpatialAttention>(
                                     guidance, c.icga_kernel, c.icga_bias, c.icga_residual, gen));
  };
  if (c.placement == IcfrNetConfig::Placement::Stage5) {
    icga_p = icga("icga_p");
    icga_d = icga("icga_d");
  } else {
    icga_p3 = icga("icga_p3");
    icga_d3 = icga("icga_d3");
    icga_p4 = icga("icga_p4");
    icga_d4 = icga("icga_d4");
  }
  for (Module* m : {static_cast<Module*>(ic_layer.get()), ic_head.get()})
    pidnet::kaiming_init_convs(*m, gen);
  for (const auto& a : {icga_p, icga_d, icga_p3, icga_d3, icga_p4, icga_d4}) {
    if (a) pidnet::kaiming_init_convs(*a, gen);
  }
}

std::shared_ptr<SpatialAttention> IcfrNet::icga_at(PidSite site) const {
  switch (site) {
    case PidSite::P3:
      return icga_p3;
    case PidSite::D3:
      return icga_d3;
    case PidSite::P4:
      return icga_p4;
    case PidSite::D4:
      return icga_d4;
    case PidSite::P5:
      return icga_p;
    case PidSite::D5:
      return icga_d;
  }
  return nullptr;
}

Tensor IcfrNet::refine(SpatialAttention& icga, const Tensor& feature, const Tensor& context,
                       const Tensor& guidance) {
  const int64_t h = feature.size(2), w = feature.size(3);
  auto at_feature_size = [&](const Tensor& t) {
    return t.size(2) == h && t.size(3) == w ? t : interpolate_bilinear(t, h, w, false);
  };
  const Tensor g = at_feature_size(guidance);
  if (icfr_config_.pooled == IcfrNetConfig::Pooled::Branch) return icga.forward(feature, g);
  ModuleScope scope(&icga);
  Tensor a = icga.attention_map(at_feature_size(context), g);
  Tensor out = mul(feature, icfr_config_.icga_residual ? add_scalar(a, 1.0) : a);
  scope.set_output(out);
  return out;
}

IcfrNetOutputs IcfrNet::run(const Tensor& x, bool full_map) {
  IcfrNetOutputs out;
  Tensor guidance;
  PidNetHooks hooks;
  hooks.shared = [&](const Tensor& x8) {
    Tensor z = ic_layer->forward(x8);
    out.ic_logits = ic_head->forward(z);
    guidance =
        icfr_config_.guidance == IcfrNetConfig::Guidance::Features ? z : sigmoid(out.ic_logits);
  };
  hooks.refine = [&](PidSite site, const Tensor& feature, const Tensor& context) {
    std::shared_ptr<SpatialAttention> icga = icga_at(site);
    return icga ? refine(*icga, feature, context, guidance) : feature;
  };
  out.heads = forward_with(x, hooks);
  if (full_map)
    out.ic_map = sigmoid(interpolate_bilinear(out.ic_logits, x.size(2), x.size(3), false));
  return out;
}

IcfrNetOutputs IcfrNet::forward_outputs(const Tensor& x) { return run(x, true); }

PidNetHeads IcfrNet::forward_heads(const Tensor& x) { return run(x, false).heads; }

NamedTensors IcfrNet::named_outputs(const Tensor& x) {
  const IcfrNetOutputs out = run(x, false);
  NamedTensors named = named_heads(out.heads);
  named.emplace_back("ic_logits", out.ic_logits);
  return named;
}

}  // namespace rtseg
