#include "apps/bench/kernel_bench.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/ops/conv.h"
#include "core/random.h"
#include "nets/registry.h"

#ifdef RTSEG_HAVE_CUDA
#include <cuda_runtime.h>

#include <functional>

#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"
#endif

namespace rtseg {

#ifdef RTSEG_HAVE_CUDA
namespace {

// Median CUDA-event time of `body` on the context's stream, with the L2 cache overwritten before
// every repeat so each run reads its operands from HBM, as inside a real forward.
class EventTimer {
 public:
  explicit EventTimer(cuda::Context& ctx) : ctx_(ctx) {
    int l2 = 0;
    cuda::check(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, ctx.device()), "L2 size");
    flush_ =
        Tensor::empty({std::max<int64_t>(2 * l2, 1 << 20)}, DType::U8, Device::cuda(ctx.device()));
    cuda::DeviceGuard guard(ctx.device());  // events belong to the device current at creation
    cuda::check(cudaEventCreate(&start_), "cudaEventCreate");
    cuda::check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  double median_ms(const std::function<void()>& body, int repeats) {
    body();  // warm-up: algorithm search, allocations
    ctx_.synchronize();
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
      cuda::check(cudaMemsetAsync(flush_.raw_data(), r & 0xff, static_cast<size_t>(flush_.numel()),
                                  ctx_.stream()),
                  "flushing L2");
      cuda::check(cudaEventRecord(start_, ctx_.stream()), "cudaEventRecord");
      body();
      cuda::check(cudaEventRecord(stop_, ctx_.stream()), "cudaEventRecord");
      cuda::check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
      float ms = 0;
      cuda::check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
      times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

 private:
  cuda::Context& ctx_;
  Tensor flush_;
  cudaEvent_t start_{}, stop_{};
};

Conv2dGeometry geometry_of(const ConvShape& s) {
  Conv2dGeometry g;
  g.n = s.input[0];
  g.c = s.input[1];
  g.h = s.input[2];
  g.w = s.input[3];
  g.k = s.out_channels;
  g.r = g.s = s.kernel;
  g.stride_h = g.stride_w = s.stride;
  g.pad_h = g.pad_w = s.padding;
  g.dil_h = g.dil_w = s.dilation;
  g.groups = s.groups;
  g.oh = conv_output_size(g.h, s.kernel, s.stride, s.padding, s.dilation);
  g.ow = conv_output_size(g.w, s.kernel, s.stride, s.padding, s.dilation);
  return g;
}

}  // namespace
#endif

KernelBenchReport run_kernel_bench(const std::vector<std::pair<std::string, Shape>>& nets,
                                   const KernelBenchOptions& options) {
#ifndef RTSEG_HAVE_CUDA
  (void)nets;
  (void)options;
  fail("bench-kernels: this rtseg was built without CUDA");
#else
  cuda::Context& ctx = cuda::context(options.device);
  ctx.set_tf32(options.tf32);
  KernelBenchReport report;
  report.tf32 = options.tf32;
  cudaDeviceProp prop{};
  cuda::check(cudaGetDeviceProperties(&prop, options.device), "cudaGetDeviceProperties");
  report.device = prop.name;
  const Device dev = Device::cuda(options.device);
  EventTimer timer(ctx);
  {
    const int64_t bytes = int64_t(1) << 30;
    Tensor a = Tensor::empty({bytes}, DType::U8, dev), b = Tensor::empty({bytes}, DType::U8, dev);
    const double ms = timer.median_ms(
        [&] {
          cuda::check(cudaMemcpyAsync(b.raw_data(), a.raw_data(), bytes, cudaMemcpyDeviceToDevice,
                                      ctx.stream()),
                      "copy");
        },
        std::max(3, options.repeats / 4));
    report.copy_gbps = 2.0 * static_cast<double>(bytes) / (ms * 1e6);
  }
  autograd::NoGradGuard no_grad;
  Generator gen(0);
  for (const auto& [name, input] : nets) {
    NetOptions no;
    auto net = create_net(name, no);
    for (const ConvShape& s : collect_conv_shapes(*net, input)) {
      KernelBenchRow row;
      row.net = name + " " + shape_str(input);
      row.shape = s;
      const Conv2dGeometry g = geometry_of(s);
      Tensor x = rand_uniform(s.input, -1, 1, gen).to(dev);
      Tensor w = rand_uniform({g.k, g.c / g.groups, g.r, g.s}, -0.1, 0.1, gen).to(dev);
      Tensor y = Tensor::empty({g.n, g.k, g.oh, g.ow}, DType::F32, dev);
      Conv2dParams p;
      p.stride = {s.stride, s.stride};
      p.padding = {s.padding, s.padding};
      p.dilation = {s.dilation, s.dilation};
      p.groups = s.groups;
      row.backend = conv2d_cuda_backend(x, w, p);
      row.ours_ms = timer.median_ms([&] { conv2d(x, w, Tensor(), p); }, options.repeats);
      row.cudnn_ms = timer.median_ms(
          [&] {
            cuda::cudnn_conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(), g,
                                       options.device);
          },
          options.repeats);
      row.bytes = 4.0 * static_cast<double>(g.input_numel() + g.weight_numel() + g.output_numel());
      row.flops = 2.0 * static_cast<double>(g.output_numel()) *
                  static_cast<double>(g.c_per_group() * g.r * g.s);
      report.rows.push_back(row);
    }
  }
  return report;
#endif
}

std::string format_kernel_bench(const KernelBenchReport& r) {
  std::string out =
      fmt::format("device {}; copy bandwidth {:.0f} GB/s (read + write); fp32, TF32 {}\n", r.device,
                  r.copy_gbps, r.tf32 ? "on" : "off");
  out += fmt::format("{:<22} {:<44} {:>4} {:<10} {:>9} {:>9} {:>7} {:>8} {:>6} {:>8}\n", "net",
                     "conv shape", "n", "kernel", "ours ms", "cuDNN ms", "speedup", "GB/s",
                     "% copy", "TFLOP/s");
  for (const KernelBenchRow& row : r.rows) {
    const double gbps = row.bytes / (row.ours_ms * 1e6);
    out += fmt::format(
        "{:<22} {:<44} {:>4} {:<10} {:>9.4f} {:>9.4f} {:>7.2f} {:>8.0f} {:>5.0f}% {:>8.2f}\n",
        row.net, row.shape.describe(), row.shape.count, row.backend, row.ours_ms, row.cudnn_ms,
        row.cudnn_ms / row.ours_ms, gbps, 100.0 * gbps / r.copy_gbps,
        row.flops / (row.ours_ms * 1e9));
  }
  return out;
}

std::string kernel_bench_markdown(const KernelBenchReport& r) {
  std::string out = fmt::format("Device {}, copy bandwidth {:.0f} GB/s, fp32, TF32 {}.\n\n",
                                r.device, r.copy_gbps, r.tf32 ? "on" : "off");
  out +=
      "| net | conv shape | count | kernel | ours (ms) | cuDNN (ms) | cuDNN/ours | GB/s | % of "
      "copy | TFLOP/s |\n";
  out += "|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const KernelBenchRow& row : r.rows) {
    const double gbps = row.bytes / (row.ours_ms * 1e6);
    out += fmt::format(
        "| {} | {} | {} | {} | {:.4f} | {:.4f} | {:.2f} | {:.0f} | {:.0f}% | {:.2f} |\n", row.net,
        row.shape.describe(), row.shape.count, row.backend, row.ours_ms, row.cudnn_ms,
        row.cudnn_ms / row.ours_ms, gbps, 100.0 * gbps / r.copy_gbps,
        row.flops / (row.ours_ms * 1e9));
  }
  return out;
}

}  // namespace rtseg
