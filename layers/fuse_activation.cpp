#include "layers/fuse_activation.h"

#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/dataflow_trace.h"
#include "layers/residual_fusion.h"

namespace rtseg {

int fuse_conv_activations(Module& net, const Shape& input_shape) {
  RTSEG_CHECK(!net.is_training(), "fuse_conv_activations: the net must be in eval mode");
  const Dataflow flow = trace_dataflow(net, input_shape);
  int fused = 0;
  for (const auto& [path, m] : net.named_modules()) {
    auto* relu = dynamic_cast<ReLU*>(m);
    auto* relu6 = dynamic_cast<ReLU6*>(m);
    if (!relu && !relu6) continue;
    if ((relu && relu->is_fused()) || (relu6 && relu6->is_fused())) continue;
    auto* conv = dynamic_cast<Conv2d*>(flow.producer_of_input(m));
    if (!conv || conv->epilogue() != ConvEpilogue::None || !flow.sole_consumer(conv, m)) continue;
    conv->set_epilogue(relu ? ConvEpilogue::Relu : ConvEpilogue::Relu6);
    if (relu) relu->mark_fused();
    if (relu6) relu6->mark_fused();
    ++fused;
  }
  return fused;
}

InferenceReport prepare_for_inference(Module& net, const Shape& input_shape) {
  InferenceReport report;
  report.folding = fold_batchnorm(net, input_shape);
  report.fused_activations = fuse_conv_activations(net, input_shape);
  for (const auto& [path, m] : net.named_modules()) {
    if (auto* block = dynamic_cast<FusesResidual*>(m); block != nullptr && block->fuse_residual())
      ++report.fused_residuals;
  }
  return report;
}

}  // namespace rtseg
