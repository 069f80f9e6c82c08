// A small conv/BN(train)/PReLU/SE/bilinear/CE model against PyTorch on the same weights and input
// (tools/reference/parity_small.py). fp32 on the CPU; tolerance 1e-5 normalized error: the two
// implementations sum in different orders, which moves fp32 results by a few ulps of the largest
// values, far below it.
#include "parity_support.h"
#include "small_net.h"

using namespace rtseg;
using rtseg::parity::SmallNet;

TEST_CASE("small model: logits, loss, gradients and BN running stats match PyTorch", "[parity]") {
  SafetensorsFile ref = SafetensorsFile::read(parity::reference_path("small.safetensors"));
  Generator gen(0);
  SmallNet net(gen);
  parity::load_reference_weights(net, ref);
  net.train();
  Tensor logits = net.forward(ref.tensor("input"));
  Tensor loss = cross_entropy(logits, ref.tensor("target"));
  loss.backward();
  const double tol = 1e-5;
  parity::require_match("logits", logits, ref.tensor("output"), tol);
  parity::require_match("loss", loss, ref.tensor("loss"), tol);
  parity::require_gradients_match(net, ref, tol);
  for (const auto& [name, expected] : parity::section(ref, "buffer_after")) {
    for (const auto& [k, t] : net.named_buffers()) {
      if (k == name) parity::require_match("buffer " + k, t, expected, tol);
    }
  }
}

RTSEG_PARITY_REFERENCE_FILE("small.safetensors")
