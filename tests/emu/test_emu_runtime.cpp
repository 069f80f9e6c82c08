// The emulated runtime: devices, memory, copies, streams and events as the CUDA runtime documents
// them, work deferred until the host can observe it, and the cuBLAS and CUB emulations.
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cub/device/device_radix_sort.cuh>
#include <limits>
#include <random>

#include "core/cuda_runtime.h"
#include "emu_test_util.h"

using namespace rtseg::emu_test;

namespace {

__global__ void add_one(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}

}  // namespace

TEST_CASE("the emulated devices describe themselves", "[emu]") {
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  REQUIRE(count == 2);  // RTSEG_EMU_DEVICES=2 for the emulator's tests
  cudaDeviceProp prop{};
  REQUIRE(cudaGetDeviceProperties(&prop, 1) == cudaSuccess);
  REQUIRE(prop.major == 9);
  REQUIRE(prop.warpSize == 32);
  REQUIRE(contains(prop.name, "emulated"));
  int value = 0;
  REQUIRE(cudaDeviceGetAttribute(&value, cudaDevAttrMaxGridDimY, 0) == cudaSuccess);
  REQUIRE(value == 65535);
  REQUIRE(cudaSetDevice(2) == cudaErrorInvalidDevice);
  REQUIRE(cudaGetLastError() == cudaErrorInvalidDevice);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  REQUIRE(rtseg::cuda_availability().device_count == 2);
}

TEST_CASE("device memory: exact sizes, capacity, and copies checked against their kind", "[emu]") {
  size_t free_before = 0, total = 0;
  REQUIRE(cudaMemGetInfo(&free_before, &total) == cudaSuccess);
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, 1000) == cudaSuccess);
  size_t free_after = 0;
  REQUIRE(cudaMemGetInfo(&free_after, &total) == cudaSuccess);
  REQUIRE(free_before - free_after == 1000);
  void* huge = nullptr;
  REQUIRE(cudaMalloc(&huge, total + 1) == cudaErrorMemoryAllocation);
  REQUIRE(contains(cudaGetErrorString(cudaGetLastError()), "out of memory"));
  std::vector<unsigned char> host(1001, 7);
  REQUIRE(cudaMemcpy(p, host.data(), 1001, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  REQUIRE(cudaMemcpy(host.data(), p, 1000, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  REQUIRE(cudaMemcpy(p, host.data(), 1000, cudaMemcpyHostToDevice) == cudaSuccess);
  std::vector<unsigned char> back(1000, 0);
  REQUIRE(cudaMemcpy(back.data(), static_cast<char*>(p) + 500, 500, cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  REQUIRE(back[0] == 7);
  REQUIRE(cudaFree(host.data()) == cudaErrorInvalidValue);
  REQUIRE(cudaFree(p) == cudaSuccess);
  cudaGetLastError();
}

TEST_CASE("work runs when the host can observe it, in stream and event order", "[emu]") {
  const int n = 1000;
  DeviceBuffer<float> x(std::vector<float>(n, 0.0f));
  cudaStream_t a = nullptr, b = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking) == cudaSuccess);
  REQUIRE(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking) == cudaSuccess);
  RTSEG_LAUNCH((n + 255) / 256, 256, 0, a, add_one)(x.get(), n);
  REQUIRE(cudaStreamQuery(a) == cudaErrorNotReady);  // queued, not run
  // The host's view of device memory is not synchronised: the kernel has not run yet.
  REQUIRE(static_cast<const float*>(x.get())[0] == 0.0f);
  cudaEvent_t done = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess);
  REQUIRE(cudaEventRecord(done, a) == cudaSuccess);
  REQUIRE(cudaStreamWaitEvent(b, done, 0) == cudaSuccess);
  RTSEG_LAUNCH((n + 255) / 256, 256, 0, b, add_one)(x.get(), n);
  REQUIRE(cudaStreamSynchronize(b) == cudaSuccess);  // runs a's launch first, through the event
  REQUIRE(cudaStreamQuery(a) == cudaSuccess);
  REQUIRE(x.download() == std::vector<float>(n, 2.0f));
  float ms = 0;
  REQUIRE(cudaEventElapsedTime(&ms, done, done) == cudaErrorInvalidResourceHandle);  // no timing
  cudaGetLastError();
  REQUIRE(cudaEventDestroy(done) == cudaSuccess);
  REQUIRE(cudaStreamDestroy(a) == cudaSuccess);
  REQUIRE(cudaStreamDestroy(b) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(a) == cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

TEST_CASE("a copy on the legacy stream is not ordered with non-blocking streams", "[emu]") {
  DeviceBuffer<float> src(std::vector<float>(4, 5.0f)), dst(std::vector<float>(4, 0.0f));
  cudaStream_t s = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
  REQUIRE(cudaMemcpyPeer(dst.get(), 0, src.get(), 0, 4 * sizeof(float)) == cudaSuccess);
  std::vector<float> seen(4, -1.0f);
  REQUIRE(cudaMemcpyAsync(seen.data(), dst.get(), 4 * sizeof(float), cudaMemcpyDeviceToHost, s) ==
          cudaSuccess);
  REQUIRE(seen == std::vector<float>(4, 0.0f));  // the peer copy has not happened for this stream
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  REQUIRE(dst.download() == std::vector<float>(4, 5.0f));
  REQUIRE(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("cuBLAS GEMM is column-major and checks its leading dimensions", "[emu]") {
  // Column-major A (2×3, lda 2), B (3×2, ldb 3): C = A·B, 2×2.
  const std::vector<double> a = {1, 4, 2, 5, 3, 6}, b = {7, 9, 11, 8, 10, 12};
  DeviceBuffer<double> da(a), db(b), dc(std::vector<double>(4, std::nan("")));
  cublasHandle_t h = nullptr;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  const double one = 1, zero = 0;
  REQUIRE(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da.get(), 2, db.get(), 3, &zero,
                      dc.get(), 2) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(dc.download() == std::vector<double>{58, 139, 64, 154});  // beta 0: NaN C not read
  // Aᵀ with A stored 3×2 (lda 3) gives the same product.
  const std::vector<double> at = {1, 2, 3, 4, 5, 6};
  DeviceBuffer<double> dat(at);
  REQUIRE(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, dat.get(), 3, db.get(), 3, &one,
                      dc.get(), 2) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(dc.download() == std::vector<double>{116, 278, 128, 308});
  REQUIRE(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da.get(), 1, db.get(), 3, &zero,
                      dc.get(), 2) == CUBLAS_STATUS_INVALID_VALUE);  // lda < m
  REQUIRE(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, dat.get(), 2, db.get(), 3, &zero,
                      dc.get(), 2) == CUBLAS_STATUS_INVALID_VALUE);  // lda < k for Aᵀ
  REQUIRE(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da.get(), 2, db.get(), 2, &zero,
                      dc.get(), 2) == CUBLAS_STATUS_INVALID_VALUE);  // ldb < k
  REQUIRE(cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, da.get(), 2, db.get(), 3, &zero,
                      dc.get(), 1) == CUBLAS_STATUS_INVALID_VALUE);  // ldc < m
  REQUIRE(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasDestroy(h) == CUBLAS_STATUS_NOT_INITIALIZED);
}

TEST_CASE("CUB's radix sort: the size query, the sort, and its own size check", "[emu]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-5, 5);
  std::vector<float> keys(3001);
  for (float& k : keys) k = u(rng);
  keys[7] = -0.0f;
  keys[8] = std::numeric_limits<float>::infinity();
  keys[9] = -std::numeric_limits<float>::infinity();
  DeviceBuffer<float> in(keys), out(keys.size());
  size_t bytes = 0;
  REQUIRE(cub::DeviceRadixSort::SortKeys(nullptr, bytes, in.get(), out.get(),
                                         static_cast<int>(keys.size())) == cudaSuccess);
  REQUIRE(bytes >= keys.size() * sizeof(float));
  DeviceBuffer<unsigned char> temp(bytes);
  size_t short_bytes = bytes - 1;
  REQUIRE(cub::DeviceRadixSort::SortKeys(temp.get(), short_bytes, in.get(), out.get(),
                                         static_cast<int>(keys.size())) == cudaErrorInvalidValue);
  cudaGetLastError();
  REQUIRE(cub::DeviceRadixSort::SortKeys(temp.get(), bytes, in.get(), out.get(),
                                         static_cast<int>(keys.size())) == cudaSuccess);
  std::vector<float> expected = keys;
  std::sort(expected.begin(), expected.end());
  REQUIRE(out.download() == expected);
}

TEST_CASE("a GPU older than the build's architectures is refused with the reason", "[.old-gpu]") {
  // Run with RTSEG_EMU_COMPUTE_CAPABILITY=75 (a registered CTest of its own).
  const rtseg::CudaAvailability& a = rtseg::cuda_availability();
  INFO(a.reason);
  REQUIRE(a.device_count == 0);
  REQUIRE(
      contains(a.reason, "has compute capability 7.5; this rtseg was built for sm_80 and newer"));
}
