#include "layers/conv2d.h"

#include "layers/init.h"

namespace rtseg {

Conv2d::Conv2d(const Conv2dOptions& o, Generator& gen) : options_(o) {
  RTSEG_CHECK(
      o.in_channels > 0 && o.out_channels > 0 && o.kernel > 0 && o.groups > 0,
      "Conv2d: channels, kernel and groups must be positive (in {}, out {}, kernel {}, groups {})",
      o.in_channels, o.out_channels, o.kernel, o.groups);
  RTSEG_CHECK(o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
              "Conv2d: {} -> {} channels do not split into {} groups", o.in_channels,
              o.out_channels, o.groups);
  const Shape shape{o.out_channels, o.in_channels / o.groups, o.kernel, o.kernel};
  weight = register_parameter("weight", default_weight_init(shape, gen));
  if (o.bias)
    bias = register_parameter("bias", default_bias_init(o.out_channels, fan_in_of(shape), gen));
}

void Conv2d::set_bias(const Tensor& values) {
  RTSEG_CHECK(values.shape() == Shape{options_.out_channels},
              "Conv2d.set_bias: expected {} values, got {}", options_.out_channels,
              values.describe());
  if (!bias.defined()) {
    bias = register_parameter(
        "bias", Tensor::zeros({options_.out_channels}, weight.dtype(), weight.device()));
    options_.bias = true;
  }
  bias.copy_from(values.to(bias.dtype()).to(bias.device()));
}

Conv2dParams Conv2d::params() const {
  Conv2dParams p;
  p.stride = {options_.stride, options_.stride};
  p.padding = {options_.padding, options_.padding};
  p.dilation = {options_.dilation, options_.dilation};
  p.groups = options_.groups;
  p.epilogue = epilogue_;
  return p;
}

// The op reports the cost and, in a summary's shapes-only run, skips the arithmetic.
Tensor Conv2d::forward_impl(const Tensor& x) { return conv2d(x, weight, bias, params()); }

Tensor Conv2d::forward_add(const Tensor& x, const Tensor& residual) {
  ModuleScope scope(this);
  Tensor y = conv2d_add(x, weight, bias, params(), residual);
  scope.set_output(y);
  return y;
}

}  // namespace rtseg
