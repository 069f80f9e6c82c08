// Tensors on a second GPU (cuda:1; in an emulation build RTSEG_EMU_DEVICES=2): every op runs on
// its tensors' device whichever device is current, copies between devices are ordered with the
// work of both, and a small training step on cuda:1 matches the CPU. Needs two devices; with one
// it says so and passes without checking anything.
#include "../test_support.h"
#include "core/cuda_runtime.h"
#include "gpu_compare.h"
#include "kernels/cuda/runtime/context.h"
#include "optim/sgd.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

const Device kSecond = Device::cuda(1);

bool two_devices() {
  if (cuda_availability().device_count >= 2) return true;
  WARN("only one GPU: the cuda:1 tests need two");
  return false;
}

}  // namespace

TEST_CASE("conv, batch norm, linear, losses and SGD on cuda:1 match the CPU",
          "[gpu][multi-device]") {
  if (!two_devices()) return;
  DebugChecks debug;
  Generator gen(21);
  const DType dt = DType::F64;
  Tensor x = rand_uniform({2, 6, 13, 17}, -1, 1, gen, dt);
  Tensor w_dense = rand_uniform({8, 6, 3, 3}, -0.3, 0.3, gen, dt);  // cuDNN
  Tensor w_dw = rand_uniform({8, 1, 3, 3}, -0.3, 0.3, gen, dt);     // depthwise kernel
  Tensor w_fc = rand_uniform({5, 8}, -0.3, 0.3, gen, dt);           // cuBLAS
  Tensor gamma = rand_uniform({8}, 0.5, 1.5, gen, dt), beta = rand_uniform({8}, -0.5, 0.5, gen, dt);
  std::vector<int64_t> targets = {1, 4};
  std::vector<Tensor> cpu_params = {w_dense, w_dw, w_fc, gamma, beta};
  std::vector<Tensor> gpu_params;
  for (Tensor& p : cpu_params) {
    p.set_requires_grad(true);
    Tensor g = p.detach().to(kSecond);
    g.set_requires_grad(true);
    gpu_params.push_back(g);
  }
  const auto step = [&](const std::vector<Tensor>& p, Device d) {
    Tensor rm = Tensor::zeros({8}, dt, d), rv = Tensor::full({8}, 1.0, dt, d);
    Tensor h = conv2d(x.to(d), p[0], Tensor(), 1, 1);
    h = relu(batch_norm(h, p[3], p[4], rm, rv, true));
    h = conv2d(h, p[1], Tensor(), 2, 2, 2, 8);
    h = reshape(adaptive_avg_pool2d(h, 1, 1), {2, 8});
    Tensor logits = linear(h, p[2]);
    Tensor loss =
        cross_entropy(reshape(logits, {2, 5, 1, 1}), Tensor::from_vector(targets, {2, 1, 1}).to(d));
    loss.backward();
    SGD(p, SgdHyper{0.1, 0.9, 0.0, 1e-4, false}).step();
    return std::make_pair(loss, rv);
  };
  const auto cpu = step(cpu_params, Device::cpu());
  const auto gpu = step(gpu_params, kSecond);
  REQUIRE(gpu.first.device() == kSecond);
  require_gpu_matches(gpu.first, cpu.first, 1e-12, 1e-12);
  require_gpu_matches(gpu.second, cpu.second, 1e-12, 1e-12);  // BN running variance
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    INFO("parameter " << i);
    require_gpu_matches(gpu_params[i], cpu_params[i], 1e-12, 1e-12);
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}

TEST_CASE("copies between devices wait for the work that produced their source",
          "[gpu][multi-device]") {
  if (!two_devices()) return;
  Generator gen(22);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor a = rand_uniform({3, 1000}, -1, 1, gen, dt), b = rand_uniform({3, 1000}, -1, 1, gen, dt);
    // Produced by a kernel on cuda:0, copied to cuda:1, used there by another kernel, and back.
    Tensor on0 = add(a.to(Device::cuda(0)), b.to(Device::cuda(0)));
    Tensor on1 = mul_scalar(on0.to(kSecond), 2.0);
    Tensor back = add_scalar(on1.to(Device::cuda(0)), 1.0);
    const Tensor expected = add_scalar(mul_scalar(add(a, b), 2.0), 1.0);
    REQUIRE(on1.device() == kSecond);
    REQUIRE(back.to_doubles() == expected.to_doubles());
    REQUIRE(on1.to_doubles() == mul_scalar(add(a, b), 2.0).to_doubles());
  }
}
