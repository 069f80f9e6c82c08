// Helpers for GPU-vs-CPU tests: run the same op on a CPU tensor and on its GPU copy, compare
// results (and gradients) with a stated relative tolerance, with the allocator's poison and guard
// checks on so unwritten outputs (NaN) and out-of-bounds writes fail the test.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "core/cuda/allocator.h"
#include "core/ops.h"
#include "core/random.h"

namespace rtseg::testing {

inline const Device kGpu = Device::cuda(0);

struct DebugChecks {
  DebugChecks() {
    cuda::set_debug_checks(true);
    cuda::take_guard_violations();
  }
  ~DebugChecks() { cuda::set_debug_checks(false); }
};

// Largest |gpu − cpu| / (atol + rtol·|cpu|); fails on NaN.
inline void require_gpu_matches(const Tensor& gpu, const Tensor& cpu, double rtol, double atol) {
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  const std::vector<double> g = gpu.to_doubles(), c = cpu.to_doubles();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    REQUIRE_FALSE(std::isnan(g[i]));
    const double e = std::abs(g[i] - c[i]) / (atol + rtol * std::abs(c[i]));
    if (e > worst) worst = e, at = i;
  }
  INFO("worst element " << at << ": gpu " << (g.empty() ? 0 : g[at]) << " cpu "
                        << (c.empty() ? 0 : c[at]) << " (" << gpu.describe() << ")");
  REQUIRE(worst <= 1.0);
}

// Runs f on CPU leaves and on GPU copies of them, compares the outputs, back-propagates the same
// random output gradient through both and compares every input gradient.
inline void compare_op(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                       const std::vector<Tensor>& cpu_inputs, double rtol, double atol,
                       uint64_t seed = 99) {
  DebugChecks debug;
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : cpu_inputs) {
    Tensor g = t.detach().to(kGpu);
    if (t.requires_grad()) g.set_requires_grad(true);
    gpu_inputs.push_back(g);
    if (t.requires_grad()) t.zero_grad();
  }
  Tensor out_cpu = f(cpu_inputs);
  Tensor out_gpu = f(gpu_inputs);
  require_gpu_matches(out_gpu, out_cpu, rtol, atol);
  if (out_cpu.requires_grad()) {
    Generator gen(seed);
    Tensor seed_grad = rand_uniform(out_cpu.shape(), -1, 1, gen, out_cpu.dtype());
    out_cpu.backward(seed_grad);
    out_gpu.backward(seed_grad.to(kGpu));
    for (size_t i = 0; i < cpu_inputs.size(); ++i) {
      if (!cpu_inputs[i].requires_grad()) continue;
      INFO("gradient of input " << i);
      require_gpu_matches(gpu_inputs[i].grad(), cpu_inputs[i].grad(), rtol, atol);
    }
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}

}  // namespace rtseg::testing
