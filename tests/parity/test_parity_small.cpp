// A small conv/BN(train)/PReLU/SE/bilinear/CE model against PyTorch on the same weights and input
// (tools/reference/parity_small.py). fp32 on the CPU; tolerance 1e-5 normalized error: the two
// implementations sum in different orders, which moves fp32 results by a few ulps of the largest
// values, far below it.
#include "core/ops.h"
#include "layers/activation.h"
#include "layers/attention.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

class SmallNet : public Module {
 public:
  explicit SmallNet(Generator& gen) {
    body = register_module("body", std::make_shared<Sequential>());
    body->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 8, 3, 1, 1, 1, 1, false}, gen));
    body->push_back(std::make_shared<BatchNorm2d>(8));
    body->push_back(std::make_shared<PReLU>(8));
    attention = register_module("attention", std::make_shared<ChannelAttention>(8, 2, gen));
    head = register_module("head", std::make_shared<Conv2d>(Conv2dOptions{8, 5, 1}, gen));
  }
  Tensor forward(const Tensor& x) override {
    Tensor logits = head->forward(attention->forward(body->forward(x)));
    return interpolate_bilinear(logits, 2 * x.size(2), 2 * x.size(3), false);
  }
  std::string type_name() const override { return "SmallNet"; }
  std::shared_ptr<Sequential> body;
  std::shared_ptr<ChannelAttention> attention;
  std::shared_ptr<Conv2d> head;
};

}  // namespace

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

RTSEG_PARITY_MAIN("small.safetensors")
