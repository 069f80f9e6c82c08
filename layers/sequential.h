// Sequential as torch.nn.Sequential: children named "0", "1", ... and applied in order.
#pragma once

#include <memory>
#include <vector>

#include "layers/module.h"

namespace rtseg {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& layers);
  // Appends a layer under the next index and returns it.
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    layers_.push_back(m);
    return register_module(std::to_string(layers_.size() - 1), m);
  }
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) const { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace rtseg
