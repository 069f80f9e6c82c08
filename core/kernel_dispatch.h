// One dispatch on (device, dtype) for ops whose kernels have a CPU and a CUDA entry point of the
// same signature but for the first argument, the execution context (kernels/cpu/exec.h,
// kernels/cuda/exec.h):
//
//   RTSEG_DISPATCH_KERNELS(x, "avg_pool2d", [&](const auto& exec) {
//     avg_pool2d_forward(exec, y.data<scalar_t>(), x.data<scalar_t>(), g, include_pad);
//   });
//
// binds `scalar_t` to x's floating type and calls the body once with the context of x's backend
// (backend_for): cpu::Exec on the reference backend (serial; float64 always runs there),
// cpu_fast::Exec on the fast one (the pool's ranges; the fast kernel where kernels/cpu_fast has
// an overload for it, else the reference, through its base class), cuda::Exec on a GPU. The kernel
// is called unqualified: argument-dependent lookup finds `cpu::` or `cuda::` by the context's
// namespace. The body is instantiated for CUDA only where CUDA is built.
#pragma once

#include "core/backend.h"
#include "core/dispatch.h"
#include "core/tensor.h"
#include "kernels/cpu/exec.h"
#include "kernels/cpu_fast/exec.h"
#include "kernels/cuda/exec.h"

namespace rtseg {

// The CPU context of a backend: parallel for CpuFast, serial for CpuReference.
cpu::Exec cpu_exec(Backend backend);

// Scratch for one kernel call: `count` values of `dtype` on `device` from the caching allocator
// (on CUDA the stream orders its reuse, so it may be released once the kernels are queued), or
// nothing when the backend's kernel needs none (count 0: the CPU kernels).
class Workspace {
 public:
  Workspace(int64_t count, DType dtype, const Device& device) {
    if (count > 0) holder_ = Tensor::empty({count}, dtype, device);
  }
  template <typename T>
  T* as() const {
    return holder_.defined() ? holder_.data<T>() : nullptr;
  }
  void* bytes() const { return holder_.defined() ? holder_.raw_data() : nullptr; }

 private:
  Tensor holder_;
};

template <typename Body>
void run_kernels(const Device& device, DType dtype, const char* op, const Body& body) {
  if (device.is_cpu()) {
#ifdef RTSEG_HAVE_CPU_FAST
    if (backend_for(device, dtype) == Backend::CpuFast) {
      body(cpu_fast::Exec{cpu_exec(Backend::CpuFast)});
      return;
    }
#endif
    body(cpu_exec(Backend::CpuReference));
    return;
  }
#ifdef RTSEG_HAVE_CUDA
  body(cuda::Exec{cuda::stream_of(device.index), device.index});
#else
  fail("{}: CUDA tensors need an rtseg built with CUDA (RTSEG_CUDA=ON)", op);
#endif
}

}  // namespace rtseg

#define RTSEG_DISPATCH_KERNELS(tensor, op, ...)                                 \
  RTSEG_DISPATCH_FLOATING((tensor).dtype(), op, [&] {                           \
    ::rtseg::run_kernels((tensor).device(), (tensor).dtype(), op, __VA_ARGS__); \
  })
