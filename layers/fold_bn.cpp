#include "layers/fold_bn.h"

#include <cmath>
#include <map>
#include <set>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/profile.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"

namespace rtseg {

namespace {

// Records which module produced each tensor and which modules read it.
class DataflowTracer : public ForwardObserver {
 public:
  void on_op(const OpCost&) override {}
  void on_enter(const void* owner, const Tensor* input) override {
    if (input && input->defined()) {
      readers[input->impl_ptr().get()].insert(owner);
      keep_alive.push_back(*input);
    }
    inputs[owner] = input && input->defined() ? input->impl_ptr().get() : nullptr;
  }
  void on_exit(const void* owner, const Tensor* output) override {
    if (output && output->defined()) {
      producer[output->impl_ptr().get()] = owner;
      keep_alive.push_back(*output);  // addresses must stay unique while tracing
    }
  }

  std::map<const TensorImpl*, const void*> producer;
  std::map<const TensorImpl*, std::set<const void*>> readers;
  std::map<const void*, const TensorImpl*> inputs;
  std::vector<Tensor> keep_alive;
};

}  // namespace

FoldReport fold_batchnorm(Module& net, const Shape& input_shape) {
  RTSEG_CHECK(!net.is_training(),
              "fold_batchnorm: the net must be in eval mode (folding uses running statistics)");
  DataflowTracer tracer;
  {
    ObserverGuard guard(&tracer);
    autograd::NoGradGuard no_grad;
    const std::vector<Tensor> params = net.parameters();
    Tensor x = Tensor::zeros(input_shape, params.empty() ? DType::F32 : params[0].dtype(),
                             params.empty() ? Device::cpu() : params[0].device());
    tracer.keep_alive.push_back(net.forward(x));
  }
  std::map<const void*, Module*> modules;
  std::map<const void*, std::string> paths;
  for (const auto& [path, m] : net.named_modules()) {
    modules[m] = m;
    paths[m] = path;
  }
  // Readers of the conv output other than the BN itself and the modules that contain it (a
  // container passes its input straight to its first child).
  auto other_readers = [&](const TensorImpl* t, const Module* bn) {
    const std::string& bn_path = paths[bn];
    int n = 0;
    for (const void* r : tracer.readers[t]) {
      const std::string& p = paths[r];
      const bool ancestor = p.empty() || bn_path.rfind(p + ".", 0) == 0;
      if (r != bn && !ancestor) ++n;
    }
    return n;
  };

  FoldReport report;
  autograd::NoGradGuard no_grad;
  for (const auto& [path, m] : net.named_modules()) {
    auto* bn = dynamic_cast<BatchNorm2d*>(m);
    if (!bn) continue;
    auto in = tracer.inputs.find(bn);
    const TensorImpl* feed = in == tracer.inputs.end() ? nullptr : in->second;
    auto prod = feed ? tracer.producer.find(feed) : tracer.producer.end();
    auto* conv =
        prod == tracer.producer.end() ? nullptr : dynamic_cast<Conv2d*>(modules[prod->second]);
    if (!conv || other_readers(feed, bn) != 0 || bn->is_folded()) {
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
