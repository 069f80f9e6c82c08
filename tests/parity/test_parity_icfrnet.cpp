// ICFRNet (training graph) against the PyTorch definition in tools/reference/icfrnet.py on the
// same weights and input: every PIDNet head, the IC logit and the full-size complexity map, the
// loss (PIDNet terms + MSE on the map), every parameter gradient and the BN running statistics.
// Variant A in float64 training mode (1e-9) and float32 eval mode at a size that is not a multiple
// of 8 (1e-4), as for PIDNet-S (test_parity_pidnet.cpp); and every non-default option of
// IcfrNetConfig at once in float64 training mode (1e-9). The options are read from the metadata.
#include "core/ops.h"
#include "nets/icfrnet.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

IcfrNetConfig config_from(const std::map<std::string, std::string>& meta) {
  using C = IcfrNetConfig;
  IcfrNetConfig c;
  c.pidnet.num_classes = std::stoll(meta.at("num_classes"));
  c.pidnet.training_graph = true;
  c.ic_head = meta.at("ic_head") == "convbn" ? C::IcHead::ConvBn : C::IcHead::SegmentHead;
  c.guidance = meta.at("guidance") == "features" ? C::Guidance::Features : C::Guidance::Map;
  c.pooled = meta.at("pooled") == "branch" ? C::Pooled::Branch : C::Pooled::Context;
  c.placement = meta.at("placement") == "stage5" ? C::Placement::Stage5 : C::Placement::Stages34;
  c.icga_kernel = std::stoll(meta.at("kernel"));
  c.icga_bias = meta.at("bias") == "True";
  c.icga_residual = meta.at("residual") == "True";
  return c;
}

void check_against(const std::string& file, DType dtype, double tol) {
  SafetensorsFile ref = SafetensorsFile::read(parity::reference_path(file));
  IcfrNet net(config_from(ref.metadata()));
  net.to(dtype);
  parity::load_reference_weights(net, ref);
  net.train(ref.metadata().at("training") == "True");
  INFO("reference drawn with seed "
       << ref.metadata().at("seed")
       << "; PyTorch fp32 vs float64 on it: " << ref.metadata().at("fp32_vs_fp64"));
  const IcfrNetOutputs out = net.forward_outputs(ref.tensor("input"));
  const Tensor target = ref.tensor("target");
  Tensor loss =
      add(add(cross_entropy(out.heads.aux_p, target), cross_entropy(out.heads.main, target)),
          add(mse_loss(out.heads.boundary, ref.tensor("boundary_target")),
              mse_loss(out.ic_map, ref.tensor("complexity_target"))));
  loss.backward();
  parity::require_match("P-aux logits", out.heads.aux_p, ref.tensor("output/aux_p"), tol);
  parity::require_match("main logits", out.heads.main, ref.tensor("output/main"), tol);
  parity::require_match("boundary logits", out.heads.boundary, ref.tensor("output/boundary"), tol);
  parity::require_match("IC logits", out.ic_logits, ref.tensor("output/ic_logits"), tol);
  parity::require_match("complexity map", out.ic_map, ref.tensor("output/ic_map"), tol);
  parity::require_match("loss", loss, ref.tensor("loss"), tol);
  parity::require_gradients_match(net, ref, tol);
  const auto after = parity::section(ref, "buffer_after");
  for (const auto& [k, t] : net.named_buffers())
    parity::require_match("buffer " + k, t, after.at(k), tol);
}

}  // namespace

TEST_CASE("ICFRNet (variant A) matches PyTorch in float64 training mode", "[parity][icfrnet]") {
  check_against("icfrnet_f64.safetensors", DType::F64, 1e-9);
}

TEST_CASE(
    "ICFRNet (variant A) matches PyTorch in float32 eval mode at a size that is not a multiple of "
    "8",
    "[parity][icfrnet]") {
  check_against("icfrnet.safetensors", DType::F32, 1e-4);
}

TEST_CASE("ICFRNet with every non-default option matches PyTorch in float64 training mode",
          "[parity][icfrnet]") {
  check_against("icfrnet_variants.safetensors", DType::F64, 1e-9);
}

RTSEG_PARITY_REFERENCE_FILE("icfrnet.safetensors")
