// Elementwise, activation, reduction and copy ops on the GPU against the CPU references.
// Tolerances: pointwise ops do at most one rounding per element, so fp32 is held to 1e-6 relative
// and fp64 to 1e-12. Sums (reductions, and the gradients of broadcast operands, which sum over
// the broadcast dimensions) are compared in fp32 against a float64 reference with a bound that
// grows with the number of terms (compare_reduction_op): the CPU's own fp32 sum runs in another
// order and differs from the GPU's tree by more than any fixed relative tolerance for some seeds.
#include "../test_support.h"
#include "gpu_compare.h"
#include "kernels/unary_element.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

double tol(DType dt, double fp32) { return dt == DType::F32 ? fp32 : 1e-12; }

}  // namespace

TEST_CASE("broadcast arithmetic on the GPU", "[gpu][elementwise]") {
  Generator gen(1);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 19, 17, 23}, {2, 19, 17, 23}}, {{2, 19, 17, 23}, {1, 19, 1, 1}},
      {{2, 19, 17, 23}, {2, 19, 1, 1}},   {{1, 1, 17, 23}, {2, 3, 1, 1}},
      {{3, 1, 5}, {2, 1, 4, 1}},          {{7}, {}}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [sa, sb] : cases) {
      INFO(shape_str(sa) << " with " << shape_str(sb) << " " << dtype_name(dt));
      Tensor a = random_input(sa, gen, -1, 1, dt);
      Tensor b = random_input(sb, gen, 0.5, 2, dt);
      for (auto op : {add, sub, mul, div}) {
        const auto f = [op](const std::vector<Tensor>& t) { return op(t[0], t[1]); };
        if (dt == DType::F32) {
          compare_reduction_op(f, {a, b}, 1, 1e-6);
        } else {
          compare_op(f, {a, b}, 1e-12, 1e-12);
        }
      }
    }
  }
}

TEST_CASE("activations and scalar ops on the GPU", "[gpu][activation]") {
  Generator gen(2);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = random_input({2, 33, 17, 19}, gen, -8, 8, dt);
    const std::vector<std::function<Tensor(const Tensor&)>> fs = {
        [](const Tensor& t) { return relu(t); },
        [](const Tensor& t) { return relu6(t); },
        [](const Tensor& t) { return leaky_relu(t, 0.1); },
        [](const Tensor& t) { return sigmoid(t); },
        [](const Tensor& t) { return tanh(t); },
        [](const Tensor& t) { return rsub_scalar(mul_scalar(add_scalar(t, 0.5), 3), 1); }};
    for (const auto& f : fs) {
      compare_op([&f](const std::vector<Tensor>& t) { return f(t[0]); }, {x}, tol(dt, 1e-6), 1e-7);
    }
  }
}

namespace {

Tensor call(Tensor (*f)(const Tensor&), const Tensor& x, double) { return f(x); }
Tensor call(Tensor (*f)(const Tensor&, double), const Tensor& x, double p) { return f(x, p); }

}  // namespace

// Every row of the pointwise table (kernels/unary_element.h), odd sizes, forward and backward.
TEST_CASE("every pointwise op of the table on the GPU", "[gpu][activation]") {
  Generator gen(5);
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& shape : std::vector<Shape>{{1}, {3, 7, 5, 9}}) {
      const Tensor x = random_input(shape, gen, -8, 8, dt);
#define RTSEG_COMPARE_UNARY(Op, function, test_param)                                          \
  {                                                                                            \
    INFO(#function << " " << dtype_name(dt) << " " << shape_str(shape));                       \
    compare_op(                                                                                \
        [](const std::vector<Tensor>& t) { return call(&rtseg::function, t[0], test_param); }, \
        {x}, tol(dt, 1e-6), 1e-7);                                                             \
  }
      RTSEG_UNARY_ELEMENTS(RTSEG_COMPARE_UNARY)
#undef RTSEG_COMPARE_UNARY
    }
  }
}

TEST_CASE("sums and copies on the GPU", "[gpu][reduce][shape]") {
  Generator gen(3);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = random_input({2, 37, 45, 80}, gen, -1, 1, dt);
    Tensor y = random_input({2, 11, 45, 80}, gen, -1, 1, dt);
    const double t = tol(dt, 1e-6);
    const std::vector<std::pair<std::function<Tensor(const std::vector<Tensor>&)>, int64_t>> sums =
        {{[](const std::vector<Tensor>& v) { return sum(v[0]); }, x.numel()},
         {[](const std::vector<Tensor>& v) {
            return mean(v[0], {0, 2, 3}, true);
          },
          2 * 45 * 80},
         {[](const std::vector<Tensor>& v) { return sum(v[0], {1}); }, 37},
         {[](const std::vector<Tensor>& v) {
            return sum_to(v[0], {37, 1, 1});
          },
          2 * 45 * 80}};
    for (const auto& [f, terms] : sums) {
      if (dt == DType::F32) {
        compare_reduction_op(f, {x}, terms, 1e-6);
      } else {
        compare_op(f, {x}, t, 1e-12);
      }
    }
    compare_op(
        [](const std::vector<Tensor>& v) {
          return concat({v[0], v[1], v[0]});
        },
        {x, y}, t, 0);
    compare_op(
        [](const std::vector<Tensor>& v) {
          return channel_shuffle(concat({v[0], v[1]}), 4);
        },
        {x, y}, t, 0);
    compare_op([](const std::vector<Tensor>& v) { return split(v[0], {5, 32})[1]; }, {x}, t, 0);
    compare_op([](const std::vector<Tensor>& v) { return reshape(narrow(v[0], 1, 3, 7), {-1}); },
               {x}, t, 0);
  }
}

TEST_CASE("dtype conversions and fills on the GPU", "[gpu][tensor]") {
  cuda::set_debug_checks(true);
  Tensor labels = Tensor::from_vector<int64_t>({0, 3, 255, 7}, {4}).to(kGpu);
  REQUIRE(labels.to(DType::F32).to_doubles() == std::vector<double>{0, 3, 255, 7});
  Tensor bytes = Tensor::from_vector<uint8_t>({0, 128, 255}, {3}).to(kGpu);
  REQUIRE(bytes.to(DType::F64).to_doubles() == std::vector<double>{0, 128, 255});
  REQUIRE(Tensor::zeros({5, 3}, DType::F32, kGpu).to_doubles() == std::vector<double>(15, 0.0));
  REQUIRE(Tensor::full({4}, 2.5, DType::F64, kGpu).to_doubles() == std::vector<double>(4, 2.5));
  cuda::set_debug_checks(false);
  REQUIRE(cuda::take_guard_violations() == 0);
}

TEST_CASE("argmax over channels on the GPU", "[gpu][reduce]") {
  cuda::set_debug_checks(true);
  Generator gen(4);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = rand_uniform({2, 19, 37, 41}, -1, 1, gen, dt);
    REQUIRE(argmax_channels(x.to(kGpu)).to_vector<int64_t>() ==
            argmax_channels(x).to_vector<int64_t>());
  }
  cuda::set_debug_checks(false);
  REQUIRE(cuda::take_guard_violations() == 0);
}
