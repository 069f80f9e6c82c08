// The net benchmark, PIDNet's FPS protocol (docs/pidnet-s.md, "FPS protocol"): eval mode, BN folded
// into the convs, batch 1, 10 warm-up forwards, then a timed loop of at least `seconds` with device
// synchronisation at both ends, producing the logits at 1/8 resolution (no upsampling, no argmax).
// Also end-to-end FPS (logits resized to the input and argmax'd), params and MACs in the three
// conventions, peak device memory and a per-module forward time table.
#pragma once

#include <string>
#include <vector>

#include "nets/summary.h"

namespace rtseg {

struct NetBenchOptions {
  std::string net = "cifrenet";
  int64_t classes = 19;
  std::string dataset = "cityscapes";
  int64_t height = 360, width = 640;
  bool use_gpu = true;   // when one is available
  double seconds = 5.0;  // length of each timed loop
  int warmup = 10;
  int iterations = 0;  // per timed loop; 0: from `seconds` (at least 10)
  bool fold_bn = true;
  bool per_layer = true;
  bool tf32 = false;
};

struct LayerTime {
  std::string path, type;
  double ms = 0;  // mean forward time of the module (device synchronised around it)
};

struct NetBenchResult {
  std::string device;  // "cpu" or the GPU's name
  std::string cpu;     // on the CPU: backend, threads and instruction set
  std::string net;
  Shape input;
  int64_t params = 0;
  MacCounts macs;
  int folded_bn = 0;
  int fused_activations = 0;
  int fused_residuals = 0;  // residual joins run as conv2d_add
  int iterations = 0;
  double latency_ms = 0, fps = 0;                // protocol: logits at 1/8
  double end_to_end_ms = 0, end_to_end_fps = 0;  // + resize to input + argmax
  double peak_mib = -1;                          // device memory high-water mark (-1 on the CPU)
  std::vector<LayerTime> layers;
  bool tf32 = false;
};

NetBenchResult run_net_bench(const NetBenchOptions& options);
std::string format_net_bench(const NetBenchResult& r);
std::string net_bench_json(const NetBenchResult& r);

}  // namespace rtseg
