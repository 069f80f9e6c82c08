#include "optim/sgd.h"

#include "core/autograd.h"

namespace rtseg {

SGD::SGD(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  size_t count = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    const SgdHyper& h = g.hyper;
    RTSEG_CHECK(h.lr >= 0, "SGD: group {} has a negative learning rate {}", gi, h.lr);
    RTSEG_CHECK(h.momentum >= 0, "SGD: group {} has a negative momentum {}", gi, h.momentum);
    RTSEG_CHECK(h.weight_decay >= 0, "SGD: group {} has a negative weight decay {}", gi,
                h.weight_decay);
    RTSEG_CHECK(!h.nesterov || (h.momentum > 0 && h.dampening == 0),
                "SGD: group {}: Nesterov momentum needs momentum > 0 and zero dampening", gi);
    g.initial_lr = h.lr;
    for (const Tensor& p : g.params) {
      RTSEG_CHECK(p.defined() && p.is_leaf() && p.requires_grad() && is_floating(p.dtype()),
                  "SGD: group {} holds a tensor that is not a floating leaf requiring grad", gi);
    }
    count += g.params.size();
  }
  buffers_.resize(count);
}

SGD::SGD(const std::vector<Tensor>& params, const SgdHyper& hyper)
    : SGD(std::vector<ParamGroup>{ParamGroup{params, hyper, hyper.lr}}) {}

void SGD::step() {
  autograd::NoGradGuard no_grad;
  size_t k = 0;
  for (const ParamGroup& g : groups_) {
    for (const Tensor& p : g.params) {
      Tensor& buf = buffers_[k++];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      const bool first = !buf.defined();
      if (first && g.hyper.momentum != 0.0) buf = Tensor::empty(p.shape(), p.dtype(), p.device());
      sgd_update_(p, grad, buf, first, g.hyper);
    }
  }
  ++steps_;
}

void SGD::zero_grad() {
  for (const ParamGroup& g : groups_) {
    for (const Tensor& p : g.params) p.zero_grad();
  }
}

}  // namespace rtseg
