// The convolution kernel benchmark: for every distinct conv shape of the nets, the production
// conv2d op (whichever kernel conv_select.h picks) against cuDNN on the same shape, forward
// fp32, CUDA-event timing with L2 flushed before every repeat, achieved GB/s against the
// device-to-device copy bandwidth measured in the same run, and TFLOP/s.
#pragma once

#include <string>
#include <vector>

#include "apps/bench/conv_shapes.h"

namespace rtseg {

struct KernelBenchRow {
  std::string net;
  ConvShape shape;
  std::string backend;  // depthwise / grouped / cudnn
  double ours_ms = 0;   // median
  double cudnn_ms = 0;  // median
  double bytes = 0;     // input + weight + output, each moved once
  double flops = 0;     // 2 · MACs
};

struct KernelBenchReport {
  std::string device;
  double copy_gbps = 0;  // device-to-device copy, bytes read + written per second
  bool tf32 = false;
  std::vector<KernelBenchRow> rows;
};

struct KernelBenchOptions {
  int repeats = 20;
  bool tf32 = false;
  int device = 0;
};

// (net name, input shape) pairs whose conv shapes are timed; nets must be in the registry.
KernelBenchReport run_kernel_bench(const std::vector<std::pair<std::string, Shape>>& nets,
                                   const KernelBenchOptions& options);

std::string format_kernel_bench(const KernelBenchReport& r);    // aligned text table
std::string kernel_bench_markdown(const KernelBenchReport& r);  // for BENCHMARKS.md

}  // namespace rtseg
