// Device memory: round trips between host and GPU, the out-of-memory message, and the
// allocator's debug checks (guard regions of live blocks, blocks from before the checks).
#include <cuda_runtime.h>

#include <catch2/catch.hpp>

#include "core/random.h"
#include "core/tensor.h"
#include "kernels/cuda/runtime/allocator.h"
#include "kernels/cuda/runtime/context.h"

using namespace rtseg;

TEST_CASE("host -> GPU -> host round trips are bit-identical", "[gpu]") {
  Generator gen(1);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor host = rand_uniform({2, 3, 17, 19}, -1, 1, gen, dt);
    Tensor dev = host.to(Device::cuda(0));
    REQUIRE(dev.device() == Device::cuda(0));
    Tensor back = dev.to(Device::cpu());
    REQUIRE(back.to_doubles() == host.to_doubles());
  }
  Tensor labels = Tensor::from_vector<int64_t>({0, 5, 255}, {3}).to(Device::cuda(0));
  REQUIRE(labels.to_vector<int64_t>() == std::vector<int64_t>{0, 5, 255});
}

TEST_CASE("an impossible allocation says how much was asked and how much is free", "[gpu]") {
  try {
    Tensor::empty({int64_t(1) << 40}, DType::F32, Device::cuda(0));  // 4 TiB
    FAIL("expected out of memory");
  } catch (const Error& e) {
    REQUIRE(std::string(e.what()).find("out of memory on cuda:0: asked for") != std::string::npos);
  }
}

TEST_CASE("debug checks report an overrun of a block that is still alive", "[gpu]") {
  cuda::set_debug_checks(true);
  cuda::take_guard_violations();
  {
    // 512 bytes: no rounding in either allocator mode, so the guard starts right after it.
    Tensor t = Tensor::zeros({128}, DType::F32, Device::cuda(0));
    REQUIRE(cuda::take_guard_violations() == 0);
    cudaStream_t stream = cuda::context(0).stream();
    REQUIRE(cudaMemsetAsync(static_cast<char*>(t.raw_data()) + 512, 0, 4, stream) == cudaSuccess);
    REQUIRE(cuda::take_guard_violations() == 1);  // while `t` is alive
  }
  REQUIRE(cuda::take_guard_violations() == 0);  // counted once, not again at the release
  cuda::set_debug_checks(false);
}

TEST_CASE("a block allocated before debug checks were on has no guard to check", "[gpu]") {
  cuda::set_debug_checks(false);
  Tensor t = Tensor::full({128}, 1.0, DType::F32, Device::cuda(0));  // no guard: data to the end
  cuda::set_debug_checks(true);
  cuda::take_guard_violations();
  t = Tensor();
  REQUIRE(cuda::take_guard_violations() == 0);
  cuda::set_debug_checks(false);
}
