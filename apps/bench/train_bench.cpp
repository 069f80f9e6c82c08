#include "apps/bench/train_bench.h"

#include <fmt/format.h>

#include <chrono>

#include "core/backend.h"
#include "core/cuda_runtime.h"
#include "core/ops.h"
#include "core/random.h"
#include "nets/registry.h"
#include "optim/sgd.h"

namespace rtseg {

TrainBenchResult run_train_bench(const TrainBenchOptions& o) {
  const NetInfo& info = net_info(o.net);
  NetOptions no;
  no.num_classes = o.classes;
  no.dataset = o.dataset;
  std::shared_ptr<Module> net = create_net(o.net, no);
  TrainBenchResult r;
  r.net = o.net;
  r.input = {o.batch, 3, o.height, o.width};
  Device device = Device::cpu();
  r.device = "cpu";
  r.cpu = fmt::format("{}, {} thread{}, {}", backend_name(cpu_backend()), cpu_threads(),
                      cpu_threads() == 1 ? "" : "s", cpu_isa());
  if (o.use_gpu && cuda_available()) {
    device = Device::cuda(0);
    r.device = "cuda:0";
    net->to(device);
  }
  net->train();
  Generator gen(0);
  const Tensor x = rand_uniform(r.input, -1, 1, gen).to(device);
  std::vector<int64_t> labels(static_cast<size_t>(o.batch * o.height * o.width));
  for (int64_t& l : labels) l = gen.randint(o.classes);
  const Tensor target =
      Tensor::from_vector<int64_t>(labels, {o.batch, o.height, o.width}).to(device);
  SgdHyper hyper;
  hyper.lr = 0.01;
  hyper.momentum = 0.9;
  hyper.weight_decay = 5e-4;
  SGD sgd(net->parameters(), hyper);
  const auto step = [&] {
    sgd.zero_grad();
    Tensor logits = net->forward(x);
    if (logits.size(2) != o.height || logits.size(3) != o.width) {
      logits = interpolate_bilinear(logits, o.height, o.width, info.align_corners);
    }
    Tensor loss = cross_entropy(logits, target);
    loss.backward();
    sgd.step();
    return loss.item();  // a host read: the step is complete when it returns
  };
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < o.warmup; ++i) {
    const double loss = step();
    if (i == 0) r.first_loss = loss;
  }
  int n = o.iterations;
  if (n <= 0) {
    const auto t0 = Clock::now();
    r.last_loss = step();
    const double probe = std::chrono::duration<double>(Clock::now() - t0).count();
    n = std::max(3, static_cast<int>(o.seconds / std::max(probe, 1e-6)));
  }
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) r.last_loss = step();
  r.iterations = n;
  r.step_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / n;
  r.images_per_s = 1000.0 * static_cast<double>(o.batch) / r.step_ms;
  return r;
}

std::string format_train_bench(const TrainBenchResult& r) {
  return fmt::format(
      "{} training step, batch {} at {}x{}, on {} (fp32): {:.1f} ms per step, {:.2f} images/s "
      "over {} steps (loss {:.4f} -> {:.4f})\n",
      r.net, r.input[0], r.input[2], r.input[3],
      r.device == "cpu" ? fmt::format("cpu ({})", r.cpu) : r.device, r.step_ms, r.images_per_s,
      r.iterations, r.first_loss, r.last_loss);
}

}  // namespace rtseg
