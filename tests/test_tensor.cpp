// Tensor basics: factories, metadata, views, copies, dtype conversion, device errors.
#include "core/cuda_runtime.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

TEST_CASE("factories give contiguous tensors of the asked shape, dtype and value", "[tensor]") {
  Tensor z = Tensor::zeros({2, 3, 4, 5});
  REQUIRE(z.shape() == Shape{2, 3, 4, 5});
  REQUIRE(z.strides() == Shape{60, 20, 5, 1});
  REQUIRE(z.numel() == 120);
  REQUIRE(z.dim() == 4);
  REQUIRE(z.size(-1) == 5);
  REQUIRE(z.dtype() == DType::F32);
  REQUIRE(z.is_contiguous());
  REQUIRE(z.device().is_cpu());
  require_values(Tensor::full({3}, 2.5, DType::F64), {2.5, 2.5, 2.5});
  require_values(Tensor::ones({2}, DType::I64), {1, 1});
  REQUIRE(z.describe() == "float32[2, 3, 4, 5] cpu");
  require_error([] { Tensor::zeros({2, -1}); }, "negative dimension");
  require_error(
      [] {
        Tensor::from_vector<float>({1, 2, 3}, {2, 2});
      },
      "3 values do not fill shape [2, 2]");
  require_error([&] { z.size(4); }, "dimension 4 out of range");
  require_error([&] { z.item(); }, "has 120 elements");
  require_error([&] { z.data<double>(); }, "data<float64>() on a float32");
}

TEST_CASE("reshape and narrow are views; clone and contiguous copy", "[tensor][views]") {
  Tensor x = Tensor::from_doubles({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2, 1});
  Tensor r = reshape(x, {3, -1});
  REQUIRE(r.shape() == Shape{3, 4});
  REQUIRE(r.raw_data() == x.raw_data());  // shares storage
  Tensor c = narrow(x, 1, 1, 2);          // channels 1..2 of both images: strided
  REQUIRE(c.shape() == Shape{2, 2, 2, 1});
  REQUIRE_FALSE(c.is_contiguous());
  require_values(c, {2, 3, 4, 5, 8, 9, 10, 11});
  Tensor copy = c.clone();
  REQUIRE(copy.is_contiguous());
  require_values(copy, {2, 3, 4, 5, 8, 9, 10, 11});
  // A reshape of a strided view copies, and still has the right values.
  require_values(reshape(c, {-1}), {2, 3, 4, 5, 8, 9, 10, 11});
  require_error([&] { reshape(x, {5, -1}); }, "reshape: cannot infer");
  require_error([&] { reshape(x, {-1, -1}); }, "more than one -1");
  require_error([&] { narrow(x, 1, 2, 2); }, "narrow: [2, 4) is outside dimension 1");
}

TEST_CASE("copy_from writes into strided views and converts dtypes", "[tensor]") {
  Tensor dst = Tensor::zeros({2, 4}, DType::F64);
  narrow(dst, 1, 1, 2).copy_from(Tensor::from_doubles({1, 2, 3, 4}, {2, 2}, DType::F32));
  require_values(dst, {0, 1, 2, 0, 0, 3, 4, 0});
  Tensor as_int = Tensor::from_doubles({1.75, -2.25}, {2}).to(DType::I64);
  REQUIRE(as_int.to_vector<int64_t>() == std::vector<int64_t>{1, -2});
  require_error([&] { dst.copy_from(Tensor::zeros({3})); }, "copy_from: source");
}

TEST_CASE("detach shares data but drops history", "[tensor][autograd]") {
  Generator gen(3);
  Tensor a = random_input({4}, gen);
  Tensor b = mul_scalar(a, 2.0);
  Tensor d = b.detach();
  REQUIRE(b.requires_grad());
  REQUIRE_FALSE(d.requires_grad());
  REQUIRE(d.raw_data() == b.raw_data());
  require_error([&] { b.fill(0); }, "fill: cannot overwrite");
  require_error([&] { b.set_requires_grad(false); }, "only leaf tensors");
  require_error([] { Tensor::zeros({2}, DType::I64).set_requires_grad(true); }, "only floating");
}

TEST_CASE("CUDA tensors fail clearly where there is no usable GPU", "[tensor][device]") {
  const CudaAvailability& cuda = cuda_availability();
  if (cuda.device_count > 0) {
    WARN("a GPU is present; the no-GPU error path is not exercised here");
    return;
  }
  REQUIRE_FALSE(cuda.reason.empty());
  require_error([] { Tensor::zeros({2}, DType::F32, Device::cuda(0)); },
                "cannot allocate on cuda:0");
}
