// Which implementation runs an op. CUDA tensors run on the CUDA backend; CPU tensors on one of
// two CPU backends: the reference loops (kernels/cpu: the oracle every other backend is tested
// against, never changed for speed) or the fast backend (kernels/cpu_fast: oneDNN GEMMs,
// vectorised row kernels, the thread pool). float64 — the type of the gradient checks — always
// runs on the reference. An op asks once, `backend_for(device, dtype)`, and branches on the
// answer; ops without a fast kernel run the reference on both CPU backends.
#pragma once

#include <cstdint>

#include "core/device.h"
#include "core/dtype.h"

namespace rtseg {

enum class Backend { CpuReference, CpuFast, Cuda };

const char* backend_name(Backend b);  // "cpu-reference", "cpu-fast", "cuda"

// The CPU backend for float32: RTSEG_CPU_BACKEND=reference|fast when the process starts (fast by
// default where it is built), or set_cpu_backend.
Backend cpu_backend();
void set_cpu_backend(Backend b);  // CpuReference or CpuFast; fails if the fast one is not built
bool cpu_fast_available();

inline Backend backend_for(const Device& device, DType dtype) {
  if (device.is_cuda()) return Backend::Cuda;
  return dtype == DType::F32 ? cpu_backend() : Backend::CpuReference;
}

// Sets the CPU backend for its lifetime (tests comparing the two backends).
class CpuBackendGuard {
 public:
  explicit CpuBackendGuard(Backend b) : previous_(cpu_backend()) { set_cpu_backend(b); }
  ~CpuBackendGuard() { set_cpu_backend(previous_); }
  CpuBackendGuard(const CpuBackendGuard&) = delete;
  CpuBackendGuard& operator=(const CpuBackendGuard&) = delete;

 private:
  Backend previous_;
};

// Threads of the fast CPU backend: RTSEG_NUM_THREADS, else one per core; results are the same
// bits for any count. 1 where the fast backend is not built.
int cpu_threads();
void set_cpu_threads(int n);
// The instruction set the fast CPU backend's own kernels run with ("x86-64-v3 (AVX2, FMA)").
const char* cpu_isa();

}  // namespace rtseg

// The fast CPU backend's calls in an op: compiled only where that backend is built. An op reaches
// them only for float32 (backend_for); `if constexpr` keeps the float64 instantiation out.
#ifdef RTSEG_HAVE_CPU_FAST
#define RTSEG_CPU_FAST_ONLY(op, ...) __VA_ARGS__
#else
#define RTSEG_CPU_FAST_ONLY(op, ...) \
  ::rtseg::fail("{}: this rtseg was built without the fast CPU backend", op)
#endif
