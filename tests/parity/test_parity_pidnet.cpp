// PIDNet-S (training graph: P-aux, main and boundary heads) against the PyTorch definition in
// tools/reference/pidnet.py on the same weights and input: every head's logits, the loss summed
// over the heads, every parameter gradient and the BN running statistics after the step.
// float64 in training mode at 2×3×64×96, tolerance 1e-9: the graph and every backward agree up to
// rounding. float32 in eval mode at 2×3×66×98 (not a multiple of 8: the I-branch resizes to the
// P/D size), tolerance 1e-4, on a draw where no ReLU input lies within fp32 rounding of its kink;
// tools/reference/parity_pidnet.py explains that choice and why fp32 training mode is not a fair
// comparison. The reference reaches the auxiliary heads' rectified inputs through PyTorch's
// in-place ReLU, as the authors' code does; rtseg computes them explicitly.
#include "core/ops.h"
#include "nets/pidnet.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

void check_against(const std::string& file, DType dtype, double tol) {
  SafetensorsFile ref = SafetensorsFile::read(parity::reference_path(file));
  PidNetConfig c;
  c.num_classes = std::stoll(ref.metadata().at("num_classes"));
  c.training_graph = true;
  PidNet net(c);
  net.to(dtype);
  parity::load_reference_weights(net, ref);
  net.train(ref.metadata().at("training") == "True");
  INFO("reference drawn with seed "
       << ref.metadata().at("seed")
       << "; PyTorch fp32 vs float64 on it: " << ref.metadata().at("fp32_vs_fp64"));
  const PidNetHeads heads = net.forward_heads(ref.tensor("input"));
  const Tensor target = ref.tensor("target");
  Tensor loss = add(add(cross_entropy(heads.aux_p, target), cross_entropy(heads.main, target)),
                    mse_loss(heads.boundary, ref.tensor("boundary_target")));
  loss.backward();
  parity::require_match("P-aux logits", heads.aux_p, ref.tensor("output/aux_p"), tol);
  parity::require_match("main logits", heads.main, ref.tensor("output/main"), tol);
  parity::require_match("boundary logits", heads.boundary, ref.tensor("output/boundary"), tol);
  parity::require_match("loss", loss, ref.tensor("loss"), tol);
  parity::require_gradients_match(net, ref, tol);
  const auto after = parity::section(ref, "buffer_after");
  for (const auto& [k, t] : net.named_buffers())
    parity::require_match("buffer " + k, t, after.at(k), tol);
}

}  // namespace

TEST_CASE(
    "PIDNet-S matches PyTorch in float64 training mode: heads, loss, gradients, running statistics",
    "[parity][pidnet]") {
  check_against("pidnet_f64.safetensors", DType::F64, 1e-9);
}

TEST_CASE("PIDNet-S matches PyTorch in float32 eval mode at a size that is not a multiple of 8",
          "[parity][pidnet]") {
  check_against("pidnet.safetensors", DType::F32, 1e-4);
}

RTSEG_PARITY_REFERENCE_FILE("pidnet.safetensors")
