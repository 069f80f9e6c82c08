#include "apps/bench/net_bench.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/cuda_runtime.h"
#include "core/ops.h"
#include "core/profile.h"
#include "layers/fuse_activation.h"
#include "nets/cifrenet.h"
#include "nets/registry.h"

#ifdef RTSEG_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/runtime/allocator.h"
#include "kernels/cuda/runtime/context.h"
#endif

namespace rtseg {

namespace {

using Clock = std::chrono::steady_clock;

void synchronize(Device d) {
#ifdef RTSEG_HAVE_CUDA
  if (d.is_cuda()) cuda::context(d.index).synchronize();
#else
  (void)d;
#endif
}

// Times every module's forward (device synchronised on entry and exit, so the sum exceeds the
// plain forward: the table shows where time goes, not the FPS).
class LayerTimer : public ForwardObserver {
 public:
  explicit LayerTimer(Device d) : device_(d) {}
  void on_op(const OpCost&) override {}
  void on_enter(const void* owner, const Tensor*) override {
    synchronize(device_);
    stack_.emplace_back(owner, Clock::now());
  }
  void on_exit(const void* owner, const Tensor*) override {
    synchronize(device_);
    if (stack_.empty() || stack_.back().first != owner) return;
    total_ms[owner] +=
        std::chrono::duration<double, std::milli>(Clock::now() - stack_.back().second).count();
    stack_.pop_back();
  }
  std::map<const void*, double> total_ms;

 private:
  Device device_;
  std::vector<std::pair<const void*, Clock::time_point>> stack_;
};

}  // namespace

NetBenchResult run_net_bench(const NetBenchOptions& o) {
  const NetInfo* info = nullptr;
  for (const NetInfo& n : registered_nets()) {
    if (n.name == o.net) info = &n;
  }
  NetOptions no;
  no.num_classes = o.classes;
  no.dataset = o.dataset;
  std::shared_ptr<Module> net = create_net(o.net, no);  // throws for unknown names
  NetBenchResult r;
  r.net = o.net;
  r.input = {1, 3, o.height, o.width};
  r.tf32 = o.tf32;
  const ModelSummary summary = summarize(*net, r.input);
  r.params = summary.total().params;
  r.macs = summary.total().macs;
  net->eval();
  if (o.fold_bn) {
    const InferenceReport prepared = prepare_for_inference(*net, r.input);
    r.folded_bn = prepared.folding.folded;
    r.fused_activations = prepared.fused_activations;
    r.fused_residuals = prepared.fused_residuals;
  }

  Device device = Device::cpu();
  r.device = "cpu";
  r.cpu = fmt::format("{}, {} thread{}, {}", backend_name(cpu_backend()), cpu_threads(),
                      cpu_threads() == 1 ? "" : "s", cpu_isa());
#ifdef RTSEG_HAVE_CUDA
  if (o.use_gpu && cuda_available()) {
    device = Device::cuda(0);
    cuda::context(0).set_tf32(o.tf32);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) r.device = prop.name;
    net->to(device);
  }
#endif
  auto* cifrenet = dynamic_cast<CifreNet*>(net.get());
  auto eighth = [&](const Tensor& x) {
    return cifrenet ? cifrenet->forward_eighth(x) : net->forward(x);
  };
  const bool align = info ? info->align_corners : true;

  autograd::NoGradGuard no_grad;
  Generator gen(0);
  const Tensor x = rand_uniform(r.input, -1, 1, gen).to(device);
  for (int i = 0; i < o.warmup; ++i) eighth(x);
  synchronize(device);
#ifdef RTSEG_HAVE_CUDA
  if (device.is_cuda()) cuda::reset_peak(0);
#endif
  // Estimate the per-forward time, then run a loop of at least `seconds`.
  auto timed = [&](int n, const std::function<void()>& body) {
    synchronize(device);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) body();
    synchronize(device);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  if (o.iterations > 0) {
    r.iterations = o.iterations;
  } else {
    const double probe = timed(3, [&] { eighth(x); }) / 3;
    r.iterations = std::max(10, static_cast<int>(o.seconds * 1000.0 / std::max(probe, 1e-3)));
  }
  r.latency_ms = timed(r.iterations, [&] { eighth(x); }) / r.iterations;
  r.fps = 1000.0 / r.latency_ms;
  r.end_to_end_ms = timed(r.iterations,
                          [&] {
                            Tensor logits = eighth(x);
                            argmax_channels(interpolate_bilinear(logits, o.height, o.width, align));
                          }) /
                    r.iterations;
  r.end_to_end_fps = 1000.0 / r.end_to_end_ms;
#ifdef RTSEG_HAVE_CUDA
  if (device.is_cuda())
    r.peak_mib = static_cast<double>(cuda::memory_stats(0).peak_allocated) / 1048576.0;
#endif
  if (o.per_layer) {
    LayerTimer timer(device);
    const int runs = 5;
    {
      ObserverGuard guard(&timer);
      for (int i = 0; i < runs; ++i) eighth(x);
    }
    for (const auto& [path, m] : net->named_children()) {
      auto it = timer.total_ms.find(m);
      if (it != timer.total_ms.end()) r.layers.push_back({path, m->type_name(), it->second / runs});
    }
  }
  return r;
}

std::string format_net_bench(const NetBenchResult& r) {
  std::string out = fmt::format(
      "{} at {}x{} on {} (fp32, TF32 {}, batch 1, BN folded: {} layers, activations fused: {}, "
      "residual joins fused: {})\n"
      "  params {}  MACs: conv {:.3f} G, thop-2021 {:.3f} G, thop-2022 {:.3f} G\n"
      "  protocol (logits at 1/8): {:.3f} ms, {:.1f} FPS over {} forwards\n"
      "  end to end (+ resize + argmax): {:.3f} ms, {:.1f} FPS\n",
      r.net, r.input[2], r.input[3], r.device == "cpu" ? fmt::format("cpu ({})", r.cpu) : r.device,
      r.tf32 ? "on" : "off", r.folded_bn, r.fused_activations, r.fused_residuals, r.params,
      r.macs.conv / 1e9, r.macs.thop2021 / 1e9, r.macs.thop2022 / 1e9, r.latency_ms, r.fps,
      r.iterations, r.end_to_end_ms, r.end_to_end_fps);
  if (r.peak_mib >= 0) out += fmt::format("  peak device memory {:.1f} MiB\n", r.peak_mib);
  if (!r.layers.empty()) {
    double total = 0;
    for (const LayerTime& l : r.layers) total += l.ms;
    out += "  per-module forward time (synchronised around each module):\n";
    for (const LayerTime& l : r.layers) {
      out += fmt::format("    {:<16} {:<22} {:>9.3f} ms {:>5.1f}%\n", l.path, l.type, l.ms,
                         100 * l.ms / total);
    }
  }
  return out;
}

std::string net_bench_json(const NetBenchResult& r) {
  nlohmann::ordered_json j;
  j["net"] = r.net;
  j["device"] = r.device;
  if (r.device == "cpu") j["cpu"] = r.cpu;
  j["input"] = r.input;
  j["precision"] = "fp32";
  j["tf32"] = r.tf32;
  j["params"] = r.params;
  j["macs"] = {{"conv", r.macs.conv}, {"thop2021", r.macs.thop2021}, {"thop2022", r.macs.thop2022}};
  j["folded_bn"] = r.folded_bn;
  j["fused_activations"] = r.fused_activations;
  j["fused_residuals"] = r.fused_residuals;
  j["iterations"] = r.iterations;
  j["latency_ms"] = r.latency_ms;
  j["fps"] = r.fps;
  j["end_to_end_ms"] = r.end_to_end_ms;
  j["end_to_end_fps"] = r.end_to_end_fps;
  if (r.peak_mib >= 0) j["peak_mib"] = r.peak_mib;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const LayerTime& l : r.layers)
    layers.push_back({{"module", l.path}, {"type", l.type}, {"ms", l.ms}});
  j["layers"] = layers;
  return j.dump(2);
}

}  // namespace rtseg
