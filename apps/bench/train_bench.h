// The training-step benchmark: one SGD step of a net (train mode, batch statistics) — forward,
// logits resized to the input, cross-entropy against random labels, backward, SGD with
// momentum — on random data of a fixed batch and size, timed after warm-up steps. The step the
// trainer repeats, without the data pipeline, so that engines can be compared step for step
// (tools/reference/bench_peers.py --train runs the same step in PyTorch).
#pragma once

#include <string>

#include "core/tensor.h"

namespace rtseg {

struct TrainBenchOptions {
  std::string net = "cifrenet";
  int64_t classes = 19;
  std::string dataset = "cityscapes";
  int64_t batch = 2, height = 360, width = 480;
  bool use_gpu = true;
  int warmup = 2;
  int iterations = 0;  // timed steps; 0: from `seconds` (at least 3)
  double seconds = 5.0;
};

struct TrainBenchResult {
  std::string device, cpu;  // as NetBenchResult
  std::string net;
  Shape input;
  int iterations = 0;
  double step_ms = 0, images_per_s = 0;
  double first_loss = 0, last_loss = 0;  // the steps train: the loss falls
};

TrainBenchResult run_train_bench(const TrainBenchOptions& options);
std::string format_train_bench(const TrainBenchResult& r);

}  // namespace rtseg
