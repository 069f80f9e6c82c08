// What every kernel launch does around the launch itself (kernels/cuda/launch.cuh's
// RTSEG_LAUNCH): makes the stream's device current for the launch (a launch into a stream of
// another device fails) and, with RTSEG_CUDA_SYNC=1 in the environment, synchronises the stream
// right after it, so that a kernel fault is reported at the op that caused it instead of at a
// later synchronisation.
#pragma once

#include "kernels/cuda/runtime/stream.h"

namespace rtseg::cuda {

class LaunchScope {
 public:
  LaunchScope(Stream stream, const char* kernel);
  ~LaunchScope();
  LaunchScope(const LaunchScope&) = delete;
  LaunchScope& operator=(const LaunchScope&) = delete;

  // The launch macro's loop runs its body (the launch) once.
  bool pending() const { return !finished_; }
  // After the launch: the RTSEG_CUDA_SYNC check (throws an Error naming the kernel).
  void finish();

 private:
  Stream stream_;
  const char* kernel_;
  int previous_device_ = -1;  // restored on exit when the launch changed it
  bool finished_ = false;
};

// Whether RTSEG_CUDA_SYNC=1 (read once).
bool sync_after_each_launch();

}  // namespace rtseg::cuda
