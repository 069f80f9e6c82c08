// The per-device CUDA context: the stream every op of that device runs on, the cuBLAS and cuDNN
// handles bound to it (created on first use), and the math-mode settings. Ops take the context
// of their tensors' device; there is no "current device" to set.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <mutex>

namespace rtseg::cuda {

class Context {
 public:
  explicit Context(int device);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  // Created on first use; safe to call from several threads.
  cublasHandle_t cublas();
  cudnnHandle_t cudnn();

  // TF32 tensor-core math for fp32 GEMMs and convolutions. Off by default so fp32 results match
  // the CPU references; benchmarks state which setting they ran with.
  bool tf32() const { return tf32_; }
  void set_tf32(bool on);

  void synchronize() const;

  // Records the context's event (created on first use, without timing) on its stream and
  // returns it: another stream that waits for it is ordered after everything queued here so far.
  cudaEvent_t mark();

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cudaEvent_t mark_ = nullptr;
  bool tf32_ = false;
  std::mutex handles_mutex_;
};

// The context of device `index`, created on first use (checks that the device exists).
Context& context(int device);

// Makes `device` current for the runtime calls in its scope (handles and cudaMalloc are
// per-device in the CUDA API) and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace rtseg::cuda
