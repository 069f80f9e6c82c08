#include "layers/fold_bn.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dataflow_trace.h"

namespace rtseg {

FoldReport fold_batchnorm(Module& net, const Shape& input_shape) {
  RTSEG_CHECK(!net.is_training(),
              "fold_batchnorm: the net must be in eval mode (folding uses running statistics)");
  const Dataflow flow = trace_dataflow(net, input_shape);

  FoldReport report;
  autograd::NoGradGuard no_grad;
  for (const auto& [path, m] : net.named_modules()) {
    auto* bn = dynamic_cast<BatchNorm2d*>(m);
    if (!bn) continue;
    auto* conv = dynamic_cast<Conv2d*>(flow.producer_of_input(bn));
    if (!conv || !flow.sole_consumer(conv, bn) || bn->is_folded()) {
      ++report.left_alone;
      report.unfolded.push_back(path);
      continue;
    }
    // s = γ/√(σ²+ε); W' = s·W (per output channel); b' = s·(b − μ) + β.
    const int64_t k = conv->weight.size(0);
    const std::vector<double> gamma = bn->weight.to_doubles(), var = bn->running_var.to_doubles();
    std::vector<double> s(gamma.size());
    for (size_t i = 0; i < s.size(); ++i) s[i] = gamma[i] / std::sqrt(var[i] + bn->eps());
    const Tensor scale = Tensor::from_doubles(s, {k}, conv->weight.dtype(), conv->weight.device());
    const Tensor old_bias = conv->bias.defined()
                                ? conv->bias.detach()
                                : Tensor::zeros({k}, conv->weight.dtype(), conv->weight.device());
    const Tensor new_weight = mul(conv->weight.detach(), reshape(scale, {k, 1, 1, 1}));
    const Tensor new_bias =
        add(mul(scale, sub(old_bias, bn->running_mean.detach())), bn->bias.detach());
    conv->weight.copy_from(new_weight);
    conv->set_bias(new_bias);
    bn->mark_folded();
    ++report.folded;
  }
  return report;
}

}  // namespace rtseg
