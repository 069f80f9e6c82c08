// Whole-net GPU-vs-CPU comparison: the same net built twice from one seed, one copy moved to the
// GPU; outputs, every parameter gradient and the parameters after one SGD step compared with a
// per-tensor normalised error, max |gpu − cpu| / max |cpu|.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "gpu_compare.h"
#include "layers/module.h"
#include "optim/sgd.h"

namespace rtseg::testing {

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_doubles()) m = std::max(m, std::abs(v));
  return m;
}

// floor: tensors that are zero by construction (a bias right before a training-mode BN has a zero
// gradient) are judged on the scale of the whole net, not on their own rounding noise.
inline double normalized(const Tensor& gpu, const Tensor& cpu, double floor = 1e-6) {
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  const std::vector<double> g = gpu.to_doubles(), c = cpu.to_doubles();
  double diff = 0, scale = floor;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i])) return INFINITY;
    diff = std::max(diff, std::abs(g[i] - c[i]));
    scale = std::max(scale, std::abs(c[i]));
  }
  return diff / scale;
}

// The loss of one forward pass of `net` on `device` (the net's own inputs moved there).
using NetLoss = std::function<Tensor(Module& net, Device device)>;

// Forward + backward of `loss` on both copies, then one SGD step (momentum, weight decay) on
// both: the loss, every gradient and every updated parameter must agree within `tol`.
inline void compare_training_step(Module& cpu_net, Module& gpu_net, const NetLoss& loss,
                                  double tol) {
  DebugChecks debug;
  const NamedTensors cpu_params = cpu_net.named_parameters(),
                     gpu_params = gpu_net.named_parameters();
  REQUIRE(cpu_params.size() == gpu_params.size());
  Tensor cpu_loss = loss(cpu_net, Device::cpu());
  Tensor gpu_loss = loss(gpu_net, kGpu);
  INFO("loss cpu " << cpu_loss.item() << " gpu " << gpu_loss.item());
  REQUIRE(normalized(gpu_loss, cpu_loss) <= tol);
  cpu_loss.backward();
  gpu_loss.backward();
  double largest = 0;
  for (const auto& [name, p] : cpu_params) {
    REQUIRE(p.grad().defined());
    largest = std::max(largest, max_abs(p.grad()));
  }
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    INFO("gradient of " << cpu_params[i].first);
    REQUIRE(gpu_params[i].second.grad().defined());
    REQUIRE(normalized(gpu_params[i].second.grad(), cpu_params[i].second.grad(), 1e-3 * largest) <=
            tol);
  }
  const SgdHyper hyper{0.01, 0.9, 0.0, 5e-4, false};  // lr, momentum, dampening, weight decay
  SGD cpu_opt(cpu_net.parameters(), hyper), gpu_opt(gpu_net.parameters(), hyper);
  cpu_opt.step();
  gpu_opt.step();
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    INFO("after one SGD step: " << cpu_params[i].first);
    REQUIRE(normalized(gpu_params[i].second, cpu_params[i].second) <= tol);
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}

}  // namespace rtseg::testing
