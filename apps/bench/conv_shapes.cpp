#include "apps/bench/conv_shapes.h"

#include <map>

#include "core/autograd.h"
#include "core/profile.h"
#include "layers/conv2d.h"

namespace rtseg {

namespace {

class ConvTracer : public ForwardObserver {
 public:
  explicit ConvTracer(const std::map<const void*, std::string>& paths) : paths_(paths) {}
  void on_op(const OpCost&) override {}
  void on_enter(const void* owner, const Tensor* input) override {
    auto it = paths_.find(owner);
    if (it == paths_.end() || !input) return;
    const auto* conv = dynamic_cast<const Conv2d*>(static_cast<const Module*>(owner));
    if (!conv) return;
    const Conv2dOptions& o = conv->options();
    ConvShape s;
    s.input = input->shape();
    s.out_channels = o.out_channels;
    s.kernel = o.kernel;
    s.stride = o.stride;
    s.padding = o.padding;
    s.dilation = o.dilation;
    s.groups = o.groups;
    for (ConvShape& known : shapes) {
      if (known.same_shape(s)) {
        ++known.count;
        return;
      }
    }
    s.count = 1;
    s.first_module = it->second;
    shapes.push_back(s);
  }
  void on_exit(const void*, const Tensor*) override {}
  bool shapes_only() const override { return true; }

  std::vector<ConvShape> shapes;

 private:
  const std::map<const void*, std::string>& paths_;
};

}  // namespace

std::string ConvShape::describe() const {
  return fmt::format("{}x{}x{}x{} -> {}, {}x{} s{} p{} d{} g{}", input[0], input[1], input[2],
                     input[3], out_channels, kernel, kernel, stride, padding, dilation, groups);
}

bool ConvShape::same_shape(const ConvShape& o) const {
  return input == o.input && out_channels == o.out_channels && kernel == o.kernel &&
         stride == o.stride && padding == o.padding && dilation == o.dilation && groups == o.groups;
}

std::vector<ConvShape> collect_conv_shapes(Module& net, const Shape& input) {
  std::map<const void*, std::string> paths;
  for (const auto& [path, m] : net.named_modules()) paths[m] = path;
  ConvTracer tracer(paths);
  const bool was_training = net.is_training();
  net.eval();
  {
    ObserverGuard guard(&tracer);
    autograd::NoGradGuard no_grad;
    net.forward(Tensor::zeros(input));
  }
  net.train(was_training);
  return tracer.shapes;
}

}  // namespace rtseg
