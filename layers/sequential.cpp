#include "layers/sequential.h"

namespace rtseg {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& layers) {
  for (const auto& m : layers) push_back(m);
}

Tensor Sequential::forward_impl(const Tensor& x) {
  Tensor h = x;
  for (const auto& m : layers_) h = m->forward(h);
  return h;
}

}  // namespace rtseg
