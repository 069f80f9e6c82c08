#include "optim/sgd.h"

#include "core/autograd.h"
#include "core/dispatch.h"
// The one place above core/ that calls kernels directly: the fused in-place update of a parameter
// and its momentum is no op (no autograd, no outputs), so it dispatches here.
#include "kernels/cuda/sgd.h"

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
      RTSEG_CHECK(p.is_contiguous(), "SGD: parameter {} is not contiguous", p.describe());
      const Tensor gc = as_contiguous(grad);
      const bool first = !buf.defined();
      if (first && g.hyper.momentum != 0.0) buf = Tensor::empty(p.shape(), p.dtype(), p.device());
      RTSEG_DISPATCH_FLOATING(p.dtype(), "SGD", [&] {
        scalar_t* pp = p.data<scalar_t>();
        const scalar_t* pg = gc.data<scalar_t>();
        scalar_t* pb = buf.defined() ? buf.data<scalar_t>() : nullptr;
        if (p.device().is_cpu()) {
          scalar_t none = 0;
          for (int64_t i = 0, n = p.numel(); i < n; ++i) {
            sgd_update(pp[i], pg[i], pb ? pb[i] : none, first, g.hyper);
          }
        } else {
          RTSEG_CUDA_ONLY("SGD", cuda::sgd_step(pp, pg, pb, p.numel(), first, g.hyper,
                                                cuda::stream_of(p.device().index)));
        }
      });
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
