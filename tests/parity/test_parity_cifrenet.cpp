// CIFReNet against the PyTorch definition in tools/reference/cifrenet.py on the same weights and
// input: logits, loss, every parameter gradient and the BN running statistics after the step.
// float64 in training mode, tolerance 1e-9: the graph and every backward agree exactly up to
// rounding. float32 in eval mode, tolerance 1e-4 (the bound for whole nets): see
// tools/reference/parity_cifrenet.py for why fp32 training mode is not a fair comparison.
// Errors are normalized per tensor by max |reference|, with a floor of 1e-3 × the largest
// gradient anywhere, so structurally-zero gradients (biases right before a training-mode BN) are
// judged against the scale of the net's gradients instead of their own rounding noise.
#include "core/ops.h"
#include "nets/cifrenet.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

void check_against(const std::string& file, DType dtype, double tol) {
  SafetensorsFile ref = SafetensorsFile::read(parity::reference_path(file));
  CifreNetConfig c;
  c.num_classes = 11;
  c.dsp_dilations = CifreNetConfig::dilations_for("camvid");
  c.dropout = 0.0;
  CifreNet net(c);
  net.to(dtype);
  parity::load_reference_weights(net, ref);
  net.train(ref.metadata().at("training") == "True");
  Tensor logits = net.forward(ref.tensor("input"));
  Tensor loss = cross_entropy(logits, ref.tensor("target"));
  loss.backward();
  parity::require_match("logits", logits, ref.tensor("output"), tol);
  parity::require_match("loss", loss, ref.tensor("loss"), tol);
  parity::require_gradients_match(net, ref, tol);
  const auto after = parity::section(ref, "buffer_after");
  for (const auto& [k, t] : net.named_buffers())
    parity::require_match("buffer " + k, t, after.at(k), tol);
}

}  // namespace

TEST_CASE("CIFReNet matches PyTorch in float64: logits, loss, gradients, running statistics",
          "[parity][cifrenet]") {
  check_against("cifrenet_f64.safetensors", DType::F64, 1e-9);
}

TEST_CASE("CIFReNet matches PyTorch in float32", "[parity][cifrenet]") {
  check_against("cifrenet.safetensors", DType::F32, 1e-4);
}

RTSEG_PARITY_REFERENCE_FILE("cifrenet.safetensors")
