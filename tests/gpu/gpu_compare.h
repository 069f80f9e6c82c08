// Helpers for GPU-vs-CPU tests: run the same op on a CPU tensor and on its GPU copy, compare
// results (and gradients) with a stated relative tolerance, with the allocator's poison and guard
// checks on so unwritten outputs (NaN) and out-of-bounds writes fail the test.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "core/ops.h"
#include "core/random.h"
#include "kernels/cuda/runtime/allocator.h"

namespace rtseg::testing {

inline const Device kGpu = Device::cuda(0);

// The emulated device (docs/cuda-emulation.md) runs a barrier-heavy kernel at about one
// block-thread rendezvous per 70 ns; tests shrink their largest shapes there, keeping every
// kernel and backend choice the full shapes exercise on a GPU.
#ifdef RTSEG_CUDA_EMULATION
inline constexpr bool kEmulatedDevice = true;
#else
inline constexpr bool kEmulatedDevice = false;
#endif

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

// For float32 ops that sum many values per element (reductions, and the gradients of broadcast
// operands): the GPU result against the float64 CPU result on the same float32 inputs. Allowed
// per element: rtol·|ref| + 8·2⁻²⁴·√L·max|ref|, L the number of terms summed (`forward_terms`
// for the output; numel(output) / numel(input) for an input's gradient). The rounding error of an
// L-term float32 sum grows like √L times the size of the result even in the worst common order
// (sequential), so a correct sum in any order passes for any seed, while a term lost or counted
// twice does not. A float32 reference would itself carry that error (the CPU sums sequentially).
inline void compare_reduction_op(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                 const std::vector<Tensor>& f32_inputs, int64_t forward_terms,
                                 double rtol, uint64_t seed = 99) {
  DebugChecks debug;
  std::vector<Tensor> ref_inputs, gpu_inputs;
  for (const Tensor& t : f32_inputs) {
    REQUIRE(t.dtype() == DType::F32);
    Tensor r = t.detach().to(DType::F64), g = t.detach().to(kGpu);
    if (t.requires_grad()) r.set_requires_grad(true), g.set_requires_grad(true);
    ref_inputs.push_back(r);
    gpu_inputs.push_back(g);
  }
  const auto require_near = [&](const Tensor& gpu, const Tensor& ref, double terms) {
    REQUIRE(gpu.device().is_cuda());
    REQUIRE(gpu.shape() == ref.shape());
    const std::vector<double> g = gpu.to_doubles(), r = ref.to_doubles();
    double scale = 0;
    for (double v : r) scale = std::max(scale, std::abs(v));
    const double spread = 8 * std::ldexp(1.0, -24) * std::sqrt(std::max(terms, 1.0)) * scale;
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      REQUIRE_FALSE(std::isnan(g[i]));
      const double allowed = rtol * std::abs(r[i]) + spread;
      const double ratio =
          allowed > 0 ? std::abs(g[i] - r[i]) / allowed : (g[i] == r[i] ? 0 : INFINITY);
      if (ratio > worst) worst = ratio, at = i;
    }
    INFO("worst element " << at << ": gpu " << (g.empty() ? 0 : g[at]) << " float64 reference "
                          << (r.empty() ? 0 : r[at]) << " (" << terms << " terms, ratio " << worst
                          << ")");
    REQUIRE(worst <= 1.0);
  };
  Tensor out_ref = f(ref_inputs);
  Tensor out_gpu = f(gpu_inputs);
  REQUIRE(out_gpu.dtype() == DType::F32);
  require_near(out_gpu, out_ref, static_cast<double>(forward_terms));
  if (out_ref.requires_grad()) {
    Generator gen(seed);
    Tensor seed_grad = rand_uniform(out_ref.shape(), -1, 1, gen, DType::F32);
    out_ref.backward(seed_grad.to(DType::F64));
    out_gpu.backward(seed_grad.to(kGpu));
    for (size_t i = 0; i < ref_inputs.size(); ++i) {
      if (!ref_inputs[i].requires_grad()) continue;
      INFO("gradient of input " << i);
      require_near(
          gpu_inputs[i].grad(), ref_inputs[i].grad(),
          static_cast<double>(out_ref.numel()) / static_cast<double>(ref_inputs[i].numel()));
    }
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}

}  // namespace rtseg::testing
