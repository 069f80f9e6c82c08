// The emulator can fail: kernels with planted bugs of the kinds that pass silently on a CPU loop
// and break on a GPU, each of which the emulator must report (a wrong result, a fault naming the
// kernel, a launch error with CUDA's code, or an AddressSanitizer report).
#include <cmath>

#include "emu_test_util.h"

using namespace rtseg::emu_test;

namespace {

// Each thread stages one value in shared memory and reads its right neighbour's: correct only
// with the barrier between the two steps.
template <bool kBarrier>
__global__ void rotate_through_shared(float* out, const float* in) {
  RTSEG_EXTERN_SHARED(float, staged);
  const int t = threadIdx.x, n = blockDim.x;
  staged[t] = in[blockIdx.x * n + t];
  if (kBarrier) __syncthreads();
  out[blockIdx.x * n + t] = staged[(t + 1) % n];
}

// Writes one element past the dynamic shared memory it was given.
__global__ void overrun_dynamic_shared(float* out, int n) {
  RTSEG_EXTERN_SHARED(float, staged);
  staged[threadIdx.x] = 1.0f;
  if (threadIdx.x == 0) staged[n] = 2.0f;  // n floats were allocated
  out[threadIdx.x] = staged[threadIdx.x];
}

// A warp sum as in block_sum, called by a block that is not a whole number of warps.
__global__ void full_mask_warp_sum(float* out, const float* in) {
  float v = in[threadIdx.x];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = v;
}

__global__ void write_index(int* out) { out[blockIdx.y * gridDim.x + blockIdx.x] = 1; }

}  // namespace

TEST_CASE("a missing __syncthreads gives a wrong result", "[emu][selftest]") {
  const int threads = 128, blocks = 3;
  std::vector<float> host(threads * blocks);
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i);
  DeviceBuffer<float> in(host), good(host.size()), bad(host.size());
  const size_t smem = threads * sizeof(float);
  RTSEG_LAUNCH(blocks, threads, smem, nullptr, rotate_through_shared<true>)(good.get(), in.get());
  RTSEG_LAUNCH(blocks, threads, smem, nullptr, rotate_through_shared<false>)(bad.get(), in.get());
  REQUIRE(launch_error().status == cudaSuccess);
  const std::vector<float> g = good.download(), b = bad.download();
  for (int blk = 0; blk < blocks; ++blk) {
    for (int t = 0; t < threads; ++t) {
      REQUIRE(g[blk * threads + t] == host[blk * threads + (t + 1) % threads]);
    }
  }
  // Without the barrier, thread t reads its neighbour's slot before the neighbour has written
  // it: the NaN the emulator fills shared memory with.
  int stale = 0;
  for (float v : b) stale += std::isnan(v) ? 1 : 0;
  REQUIRE(stale >= blocks * (threads - 1));
}

TEST_CASE("a write past the dynamic shared memory is reported", "[emu][selftest]") {
  const ChildResult r = run_in_child([] {
    float* out = nullptr;
    cudaMalloc(&out, 64 * sizeof(float));
    RTSEG_LAUNCH(1, 64, 64 * sizeof(float), nullptr, overrun_dynamic_shared)(out, 64);
    const cudaError_t status = cudaDeviceSynchronize();
    std::fprintf(stderr, "status %s: %s\n", cudaGetErrorName(status), cudaGetErrorString(status));
    return status == cudaSuccess ? 0 : 3;
  });
  INFO(r.stderr_text);
  if (asan_build()) {
    REQUIRE(r.exit_code != 0);
    REQUIRE(contains(r.stderr_text, "AddressSanitizer: heap-buffer-overflow"));
    REQUIRE(contains(r.stderr_text, "overrun_dynamic_shared"));
  } else {
    REQUIRE(r.exit_code == 3);
    REQUIRE(contains(r.stderr_text,
                     "overrun_dynamic_shared, block (0,0,0): wrote past its 256 bytes "
                     "of dynamic shared memory"));
  }
}

TEST_CASE("a full-mask shuffle in a block of 100 threads is reported", "[emu][selftest]") {
  DeviceBuffer<float> in(std::vector<float>(100, 1.0f)), out(4);
  RTSEG_LAUNCH(1, 100, 0, nullptr, full_mask_warp_sum)(out.get(), in.get());
  REQUIRE(launch_error().status == cudaSuccess);  // a fault, not a launch error
  const Outcome o = synchronize_and_reset();
  INFO(o.text);
  REQUIRE(o.status == cudaErrorLaunchFailure);
  REQUIRE(contains(o.text, "full_mask_warp_sum"));
  REQUIRE(contains(o.text, "thread (96,0,0)"));
  REQUIRE(contains(o.text,
                   "mask 0xffffffff names lanes 0xfffffff0 that a block of 100 threads "
                   "does not have in warp 3"));
}

TEST_CASE("an oversized grid is a launch error with CUDA's code, and nothing runs",
          "[emu][selftest]") {
  DeviceBuffer<int> out(std::vector<int>(4, 0));
  RTSEG_LAUNCH(dim3(2, 70000), 32, 0, nullptr, write_index)(out.get());
  Outcome o = launch_error();
  REQUIRE(o.status == cudaErrorInvalidConfiguration);
  REQUIRE(contains(o.text, "invalid configuration argument"));
  REQUIRE(contains(o.text, "grid (2,70000,1)"));
  REQUIRE(launch_error().status == cudaSuccess);  // cleared by reading, as launch errors are
  RTSEG_LAUNCH(1, 2048, 0, nullptr, write_index)(out.get());
  REQUIRE(launch_error().status == cudaErrorInvalidConfiguration);
  RTSEG_LAUNCH(1, 32, 64 * 1024, nullptr, write_index)(out.get());
  o = launch_error();
  REQUIRE(o.status == cudaErrorInvalidValue);
  REQUIRE(contains(o.text, "48 KiB"));
  REQUIRE(out.download() == std::vector<int>(4, 0));
}

TEST_CASE("a launch into another device's stream fails as on a GPU", "[emu][selftest]") {
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  REQUIRE(count >= 2);  // this test runs with RTSEG_EMU_DEVICES=2
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  cudaStream_t stream1 = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&stream1, cudaStreamNonBlocking) == cudaSuccess);
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  DeviceBuffer<int> out(std::vector<int>(1, 0));
  RTSEG_LAUNCH(1, 1, 0, stream1, write_index)(out.get());
  const Outcome o = launch_error();
  REQUIRE(o.status == cudaErrorInvalidResourceHandle);
  REQUIRE(
      contains(o.text, "write_index: launched into a stream of cuda:1 while cuda:0 is current"));
  // An event of device 0 cannot be recorded on device 1's stream either.
  cudaEvent_t event = nullptr;
  REQUIRE(cudaEventCreate(&event) == cudaSuccess);
  REQUIRE(cudaEventRecord(event, stream1) == cudaErrorInvalidResourceHandle);
  REQUIRE(cudaGetLastError() == cudaErrorInvalidResourceHandle);
  REQUIRE(cudaEventDestroy(event) == cudaSuccess);
  REQUIRE(cudaStreamDestroy(stream1) == cudaSuccess);
  REQUIRE(out.download() == std::vector<int>{0});
}

TEST_CASE("a static shared array written past its end is a sanitizer error", "[emu][selftest]") {
  if (!asan_build()) {
    WARN("not an AddressSanitizer build: static shared memory has no bounds check here");
    return;
  }
  const ChildResult r = run_in_child([] {
    float* out = nullptr;
    cudaMalloc(&out, 64 * sizeof(float));
    RTSEG_LAUNCH(1, 64, 0, nullptr, [](float* o) {
      __shared__ float partial[32];
      partial[threadIdx.x] = 1.0f;  // 64 threads, 32 slots
      o[threadIdx.x] = partial[threadIdx.x];
    })
    (out);
    cudaDeviceSynchronize();
    return 0;
  });
  INFO(r.stderr_text);
  REQUIRE(r.exit_code != 0);
  // UBSan's bounds check sees the constant-size array first where it is on; ASan's redzone
  // otherwise.
  REQUIRE((contains(r.stderr_text, "AddressSanitizer: global-buffer-overflow") ||
           contains(r.stderr_text, "index 32 out of bounds for type 'float [32]'")));
}

TEST_CASE("with RTSEG_CUDA_SYNC=1 a kernel fault is reported at its launch", "[.sync]") {
  // Run with RTSEG_CUDA_SYNC=1 (a registered CTest of its own).
  REQUIRE(rtseg::cuda::sync_after_each_launch());
  DeviceBuffer<float> in(std::vector<float>(100, 1.0f)), out(4);
  try {
    RTSEG_LAUNCH(1, 100, 0, nullptr, full_mask_warp_sum)(out.get(), in.get());
    FAIL("the launch did not report the fault");
  } catch (const rtseg::Error& e) {
    INFO(e.what());
    REQUIRE(contains(e.what(), "full_mask_warp_sum: kernel failed (RTSEG_CUDA_SYNC=1)"));
    REQUIRE(contains(e.what(), "names lanes 0xfffffff0"));
  }
  cudaDeviceReset();
}
