// Force-included into every kernels/cuda/*.cu file of an -DRTSEG_CUDA_EMULATION=ON build (which
// compiles them as C++): the device side of the emulated GPU. Built-in variables, barriers, warp
// primitives, shared memory, CUDA's float math overloads, and the launch entry point used by
// RTSEG_LAUNCH (kernels/cuda/launch.cuh). The semantics live in kernels/cuda/emu/block_runner.cpp.
#pragma once

#include <math.h>  // the C++ <math.h>: float overloads of exp, log, ... in the global namespace

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_runtime.h"

// CUDA's math API overloads exp(float) etc. in the global namespace; without these, g++ would call
// the C library's exp(double) for a float and silently compute in double.
using std::abs;
using std::ceil;
using std::exp;
using std::expm1;
using std::fabs;
using std::floor;
using std::fmax;
using std::fmin;
using std::isinf;
using std::isnan;
using std::log;
using std::log1p;
using std::pow;
using std::sqrt;
using std::tanh;

// Built-in variables of the thread the emulator is running (set by the block runner). `__thread`,
// not `thread_local`: an extern thread_local is reached through a TLS wrapper whose UBSan null
// check GCC 12 miscompiles at -O2 (a flags-less lea before the je reports a null pointer).
extern __thread uint3 threadIdx;
extern __thread uint3 blockIdx;
extern __thread dim3 blockDim;
extern __thread dim3 gridDim;
constexpr int warpSize = 32;

// Static shared memory: one object per kernel instantiation, shared by the threads of the block
// that runs (blocks run one at a time). Dynamic shared memory: RTSEG_EXTERN_SHARED (launch.cuh).
#define __shared__ static

namespace rtseg::emu {

// The running block's dynamic shared memory: exactly the launch's size, NaN-filled per block.
void* dynamic_shared_memory();

// A barrier of the running block (the real one: waits until every thread of the block arrives).
void block_barrier();

enum class WarpOp { ShflDown, ShflUp, ShflXor, ShflIdx, Ballot, All, Any, SyncWarp };
// Rendezvous of the lanes named by `mask` in the running thread's warp; returns this lane's result
// (the value read for shuffles, the vote for ballot/all/any).
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width);

template <typename T>
uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                "warp shuffles move at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}

template <typename T>
T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes = 0;
  cudaStream_t stream = nullptr;
  const char* kernel = "";  // the launch expression, e.g. "depthwise_forward_kernel<T, 3>"
};

// Validates the configuration as the hardware does (the error goes to cudaGetLastError) and
// enqueues the grid on the stream; thread_body runs the kernel for the current thread.
void submit(const LaunchConfig& config, std::function<void()> thread_body);

template <typename Body>
struct KernelLaunch {
  LaunchConfig config;
  Body body;

  // Kernel parameters are copied at launch, as on a GPU, and every thread gets its own copy.
  template <typename... Args>
  void operator()(Args&&... args) const {
    submit(config, [body = body, params = std::tuple<std::decay_t<Args>...>(
                                     std::forward<Args>(args)...)]() { std::apply(body, params); });
  }
};

template <typename Body>
KernelLaunch<Body> launch(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
                          const char* kernel, Body body) {
  return {LaunchConfig{grid, block, shared_bytes, stream, kernel}, body};
}

}  // namespace rtseg::emu

inline void __syncthreads() { rtseg::emu::block_barrier(); }

inline void __syncwarp(unsigned mask = 0xffffffffu) {
  rtseg::emu::warp_exchange(rtseg::emu::WarpOp::SyncWarp, mask, 0, 0, 32);
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  using namespace rtseg::emu;
  return from_bits<T>(
      warp_exchange(WarpOp::ShflDown, mask, to_bits(var), static_cast<int>(delta), width));
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  using namespace rtseg::emu;
  return from_bits<T>(
      warp_exchange(WarpOp::ShflUp, mask, to_bits(var), static_cast<int>(delta), width));
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  using namespace rtseg::emu;
  return from_bits<T>(warp_exchange(WarpOp::ShflXor, mask, to_bits(var), lane_mask, width));
}

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  using namespace rtseg::emu;
  return from_bits<T>(warp_exchange(WarpOp::ShflIdx, mask, to_bits(var), src_lane, width));
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  using namespace rtseg::emu;
  return static_cast<unsigned>(warp_exchange(WarpOp::Ballot, mask, predicate != 0, 0, 32));
}

inline int __all_sync(unsigned mask, int predicate) {
  using namespace rtseg::emu;
  return static_cast<int>(warp_exchange(WarpOp::All, mask, predicate != 0, 0, 32));
}

inline int __any_sync(unsigned mask, int predicate) {
  using namespace rtseg::emu;
  return static_cast<int>(warp_exchange(WarpOp::Any, mask, predicate != 0, 0, 32));
}
