// One SGD step for one parameter, PyTorch's torch.optim.SGD semantics, shared by the CPU loop and
// the CUDA kernel:
//   g = grad + weight_decay·p
//   buf = g on the first step, else momentum·buf + (1 − dampening)·g      (momentum ≠ 0 only)
//   d = g + momentum·buf if nesterov, else buf                             (d = g without momentum)
//   p = p − lr·d
#pragma once

#include "kernels/host_device.h"

namespace rtseg {

struct SgdHyper {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

template <typename T>
RTSEG_HOST_DEVICE inline void sgd_update(T& p, T grad, T& buf, bool first_step, const SgdHyper& h) {
  T g = grad + static_cast<T>(h.weight_decay) * p;
  if (h.momentum != 0.0) {
    buf = first_step ? g : static_cast<T>(h.momentum) * buf + static_cast<T>(1.0 - h.dampening) * g;
    g = h.nesterov ? g + static_cast<T>(h.momentum) * buf : buf;
  }
  p -= static_cast<T>(h.lr) * g;
}

}  // namespace rtseg
