// Device memory: round trips between host and GPU, and the out-of-memory message.
#include <catch2/catch.hpp>

#include "core/random.h"
#include "core/tensor.h"

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
