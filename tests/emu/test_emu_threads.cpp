// The emulated GPU threads: built-in variables, barriers and warp primitives give a GPU's results,
// and their misuse (a barrier after an exit, an exit during a barrier, a deadlock, lanes that
// disagree, a mask naming exited lanes) is a fault that names the kernel, block and thread.
#include <numeric>
#include <type_traits>

#include "emu_test_util.h"

using namespace rtseg::emu_test;

namespace {

// Sum over the block by the kernels' own block_sum (warp shuffles, then a barrier; 1-D blocks).
__global__ void block_sums(long long* out, const long long* in) {
  const long long v = rtseg::cuda::block_sum(in[blockIdx.x * blockDim.x + threadIdx.x]);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

// Warps are runs of 32 consecutive linear thread indices, also in 2-D and 3-D blocks.
__global__ void shuffles(int* out) {
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int lane = t % 32;
  int* o = out + t * 6;
  o[0] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  o[1] = __shfl_up_sync(0xffffffffu, lane * 10, 5);
  o[2] = __shfl_xor_sync(0xffffffffu, lane * 10, 6);
  o[3] = __shfl_sync(0xffffffffu, lane * 10, 35, 8);  // lane 3 of each group of 8
  o[4] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
  o[5] = __shfl_down_sync(0xffffffffu, lane * 10, 3, 16);
}

__global__ void built_ins(int* out) {
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  out[b * blockDim.x * blockDim.y * blockDim.z + t] =
      static_cast<int>(threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z + 1000 * blockIdx.x +
                       10000 * blockIdx.y + 100000 * blockIdx.z);
}

__global__ void barrier_after_exit(int* out) {
  if (threadIdx.x < 128) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void exit_during_barrier(int* out) {
  if (threadIdx.x == 200) return;  // threads before it are already waiting
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void barrier_against_shuffle(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1, 1);
  }
}

__global__ void disagreeing_masks(int* out) {
  const unsigned mask = threadIdx.x < 16 ? 0xffffffffu : 0xffff0000u;
  out[threadIdx.x] = __shfl_down_sync(mask, 1, 1);
}

__global__ void shuffle_with_exited_lanes(int* out) {
  if (threadIdx.x % 32 < 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1, 1);
}

__global__ void exit_during_shuffle(int* out) {
  if (threadIdx.x % 32 >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1, 1);
}

}  // namespace

// CUDA's math overloads: float arguments stay float (the host's C library would widen them).
namespace rtseg::cuda {
static_assert(std::is_same<decltype(exp(1.0f)), float>::value, "exp(float) must be float");
static_assert(std::is_same<decltype(log(1.0f)), float>::value, "log(float) must be float");
static_assert(std::is_same<decltype(tanh(1.0f)), float>::value, "tanh(float) must be float");
static_assert(std::is_same<decltype(sqrt(1.0f)), float>::value, "sqrt(float) must be float");
static_assert(std::is_same<decltype(log1p(1.0f)), float>::value, "log1p(float) must be float");
static_assert(std::is_same<decltype(fabs(1.0f)), float>::value, "fabs(float) must be float");
}  // namespace rtseg::cuda

TEST_CASE("block_sum over blocks of 32 to 1024 threads", "[emu]") {
  for (int n : {32, 64, 96, 256, 1024}) {
    const int blocks = 3;
    std::vector<long long> host(static_cast<size_t>(n * blocks));
    std::iota(host.begin(), host.end(), 1);
    DeviceBuffer<long long> in(host), out(blocks);
    RTSEG_LAUNCH(blocks, n, 0, nullptr, block_sums)(out.get(), in.get());
    REQUIRE(launch_error().status == cudaSuccess);
    const std::vector<long long> sums = out.download();
    for (int b = 0; b < blocks; ++b) {
      const long long first = 1 + static_cast<long long>(b) * n, last = first + n - 1;
      REQUIRE(sums[static_cast<size_t>(b)] == (first + last) * n / 2);
    }
  }
}

TEST_CASE("shuffles and ballots return what the CUDA programming guide specifies", "[emu]") {
  for (dim3 block : {dim3(64), dim3(8, 4, 2), dim3(16, 2, 2)}) {
    DeviceBuffer<int> out(64 * 6);
    RTSEG_LAUNCH(1, block, 0, nullptr, shuffles)(out.get());
    const std::vector<int> r = out.download();
    unsigned ballot = 0;
    for (int l = 0; l < 32; l += 3) ballot |= 1u << l;
    for (int t = 0; t < 64; ++t) {
      const int lane = t % 32;
      INFO("thread " << t);
      const int* o = &r[static_cast<size_t>(t) * 6];
      REQUIRE(o[0] == (lane + 3 < 32 ? lane + 3 : lane) * 10);
      REQUIRE(o[1] == (lane >= 5 ? lane - 5 : lane) * 10);
      REQUIRE(o[2] == (lane ^ 6) * 10);
      REQUIRE(o[3] == ((lane & ~7) + 3) * 10);
      REQUIRE(static_cast<unsigned>(o[4]) == ballot);
      REQUIRE(o[5] == ((lane % 16) + 3 < 16 ? lane + 3 : lane) * 10);
    }
  }
}

TEST_CASE("threadIdx, blockIdx, blockDim and gridDim in 3-D", "[emu]") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int per_block = 24, total = 12 * per_block;
  DeviceBuffer<int> out(static_cast<size_t>(total));
  RTSEG_LAUNCH(grid, block, 0, nullptr, built_ins)(out.get());
  const std::vector<int> r = out.download();
  int i = 0;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 2; ++by)
      for (unsigned bx = 0; bx < 3; ++bx)
        for (unsigned z = 0; z < 2; ++z)
          for (unsigned y = 0; y < 3; ++y)
            for (unsigned x = 0; x < 4; ++x, ++i) {
              REQUIRE(
                  r[static_cast<size_t>(i)] ==
                  static_cast<int>(x + 10 * y + 100 * z + 1000 * bx + 10000 * by + 100000 * bz));
            }
}

TEST_CASE("barrier and warp misuse are faults naming the kernel, block and thread", "[emu]") {
  struct Case {
    std::function<void(int*)> launch;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {[](int* out) {
         RTSEG_LAUNCH(2, 256, 0, nullptr, barrier_after_exit)
         (out);
       },
       {"barrier_after_exit, block (0,0,0), thread (128,0,0): reached __syncthreads after 128 "
        "thread(s) of the block had exited (thread (0,0,0) first)"}},
      {[](int* out) {
         RTSEG_LAUNCH(1, 256, 0, nullptr, exit_during_barrier)
         (out);
       },
       {"exit_during_barrier, block (0,0,0), thread (200,0,0): exited while 200 thread(s) of the "
        "block wait at __syncthreads"}},
      {[](int* out) {
         RTSEG_LAUNCH(1, 32, 0, nullptr, barrier_against_shuffle)
         (out);
       },
       {"barrier_against_shuffle, block (0,0,0), deadlock: threads 0-15 wait at __syncthreads; "
        "threads 16-31 wait at __shfl_down_sync (mask 0xffffffff, arrived 0xffff0000)"}},
      {[](int* out) {
         RTSEG_LAUNCH(1, 32, 0, nullptr, disagreeing_masks)
         (out);
       },
       {"disagreeing_masks", "thread (16,0,0)",
        "lanes of warp 0 disagree: lane 0 called __shfl_down_sync with mask 0xffffffff, lane 16 "
        "__shfl_down_sync with mask 0xffff0000"}},
      {[](int* out) {
         RTSEG_LAUNCH(1, 64, 0, nullptr, shuffle_with_exited_lanes)
         (out);
       },
       {"shuffle_with_exited_lanes", "thread (16,0,0)",
        "__shfl_down_sync with mask 0xffffffff names lane 0, which has exited"}},
      {[](int* out) {
         RTSEG_LAUNCH(1, 64, 0, nullptr, exit_during_shuffle)
         (out);
       },
       {"exit_during_shuffle",
        "thread (16,0,0): exited while lanes of its warp wait for it at "
        "__shfl_down_sync (mask 0xffffffff)"}},
  };
  for (const Case& c : cases) {
    DeviceBuffer<int> out(256);  // a reset frees the device's memory
    c.launch(out.get());
    REQUIRE(launch_error().status == cudaSuccess);
    const Outcome o = synchronize_and_reset();
    INFO(o.text);
    REQUIRE(o.status == cudaErrorLaunchFailure);
    for (const std::string& e : c.expected) REQUIRE(contains(o.text, e));
  }
}

TEST_CASE("a fault is sticky until the device is reset", "[emu]") {
  int* probe = nullptr;
  REQUIRE(cudaMalloc(&probe, 256 * sizeof(int)) == cudaSuccess);
  RTSEG_LAUNCH(2, 256, 0, nullptr, barrier_after_exit)(probe);
  REQUIRE(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  REQUIRE(cudaGetLastError() == cudaErrorLaunchFailure);
  REQUIRE(cudaGetLastError() == cudaErrorLaunchFailure);  // reading does not clear it
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, 16) == cudaErrorLaunchFailure);
  REQUIRE(cudaDeviceReset() == cudaSuccess);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  REQUIRE(cudaMalloc(&p, 16) == cudaSuccess);
  REQUIRE(cudaFree(p) == cudaSuccess);
}
