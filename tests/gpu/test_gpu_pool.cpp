// Pooling on the GPU against the CPU references, float32 and float64, forward and backward: odd
// shapes with padding, ceil mode and both divisor rules, PIDNet's PAPPM pools on a 1×512×16×32
// map (kernel 5/9/17, stride 2/4/8, padding 2/4/8, padding counted) and its global pool,
// CIFReNet's global pools (1×320×45×80 → 1×1), channel max/mean on 2×128×128×256.
//
// Tolerances: forward window sums are in double on both devices and rounded to T once, so they
// differ by at most an ulp from a different summation order: fp32 rtol 1e-6 (≈ 8 ulp), atol 1e-7
// (results near 0); fp64 rtol 1e-12, atol 1e-14. Max pooling selects a value (exact). The
// backward passes are gathers that add the reference scatter's terms in the reference's order,
// so their gradients must be bit-identical; compare_op holds them to the forward tolerance and
// a separate case checks them bit for bit.
#include "../test_support.h"
#include "gpu_compare.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Tol {
  double rtol, atol;
};

Tol pool_tol(DType dt) { return dt == DType::F32 ? Tol{1e-6, 1e-7} : Tol{1e-12, 1e-14}; }

Pool2dParams params(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> p,
                    bool ceil_mode = false, bool count_include_pad = true) {
  Pool2dParams out;
  out.kernel = k;
  out.stride = s;
  out.padding = p;
  out.ceil_mode = ceil_mode;
  out.count_include_pad = count_include_pad;
  return out;
}

Pool2dParams square(int64_t k, int64_t s, int64_t p, bool ceil_mode = false,
                    bool count_include_pad = true) {
  return params({k, k}, {s, s}, {p, p}, ceil_mode, count_include_pad);
}

struct PoolCase {
  Shape x;
  Pool2dParams p;
};

std::vector<PoolCase> pool_cases() {
  std::vector<PoolCase> cases = {
      // PIDNet PAPPM: AvgPool2d(5, 2, 2), (9, 4, 4), (17, 8, 8), count_include_pad (PyTorch's
      // default).
      {{1, 512, 16, 32}, square(5, 2, 2)},
      {{1, 512, 16, 32}, square(9, 4, 4)},
      {{1, 512, 16, 32}, square(17, 8, 8)},
      // A whole-map window written as avg_pool2d.
      {{1, 320, 45, 80}, params({45, 80}, {45, 80}, {0, 0})},
      {{2, 3, 7, 5}, square(3, 2, 1, true, false)},
      {{2, 3, 7, 5}, square(3, 2, 1, true, true)},
      {{1, 33, 17, 23}, square(2, 2, 0, true)},
      {{2, 37, 13, 11}, square(3, 1, 1, false, false)},
      {{2, 5, 9, 14}, params({3, 2}, {1, 2}, {0, 1}, true, true)},
      {{1, 1, 1, 1}, square(1, 1, 0)},
      {{2, 24, 90, 160}, square(3, 2, 1)},
  };
  return cases;
}

}  // namespace

TEST_CASE("avg_pool2d and max_pool2d on the GPU", "[gpu][pool]") {
  Generator gen(21);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = pool_tol(dt);
    for (const PoolCase& c : pool_cases()) {
      INFO(shape_str(c.x) << " kernel " << c.p.kernel[0] << "×" << c.p.kernel[1] << " stride "
                          << c.p.stride[0] << "×" << c.p.stride[1] << " pad " << c.p.padding[0]
                          << "×" << c.p.padding[1] << " ceil " << c.p.ceil_mode << " include_pad "
                          << c.p.count_include_pad << " " << dtype_name(dt));
      Tensor x = random_input(c.x, gen, -1.0, 1.0, dt);
      const Pool2dParams p = c.p;
      compare_op([p](const std::vector<Tensor>& t) { return avg_pool2d(t[0], p); }, {x}, tol.rtol,
                 tol.atol);
      compare_op([p](const std::vector<Tensor>& t) { return max_pool2d(t[0], p); }, {x}, tol.rtol,
                 tol.atol);
    }
  }
}

TEST_CASE("adaptive_avg_pool2d on the GPU, global pools included", "[gpu][pool]") {
  Generator gen(22);
  struct Case {
    Shape x;
    int64_t oh, ow;
  };
  const std::vector<Case> cases = {
      {{1, 512, 16, 32}, 1, 1},  // PIDNet PAPPM's global pool
      {{1, 320, 45, 80}, 1, 1},  // CIFReNet's global pools (a block per output)
      {{2, 19, 13, 11}, 3, 2},  {{2, 19, 13, 11}, 4, 3}, {{2, 19, 13, 11}, 13, 11},
      {{2, 19, 13, 11}, 6, 5},  {{1, 7, 40, 40}, 2, 2},  // 20×20 windows: block per output
      {{2, 3, 5, 7}, 9, 6},  // more cells than pixels: overlapping, repeated windows
  };
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = pool_tol(dt);
    for (const Case& c : cases) {
      INFO(shape_str(c.x) << " -> " << c.oh << "×" << c.ow << " " << dtype_name(dt));
      Tensor x = random_input(c.x, gen, -1.0, 1.0, dt);
      const int64_t oh = c.oh, ow = c.ow;
      compare_op(
          [oh, ow](const std::vector<Tensor>& t) { return adaptive_avg_pool2d(t[0], oh, ow); }, {x},
          tol.rtol, tol.atol);
    }
  }
}

TEST_CASE("channel_max and channel_mean on the GPU", "[gpu][pool]") {
  Generator gen(23);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = pool_tol(dt);
    for (const Shape& shape :
         {Shape{2, 128, 128, 256}, Shape{1, 33, 7, 9}, Shape{2, 1, 5, 3}, Shape{2, 37, 13, 11}}) {
      INFO(shape_str(shape) << " " << dtype_name(dt));
      Tensor x = random_input(shape, gen, -1.0, 1.0, dt);
      compare_op([](const std::vector<Tensor>& t) { return channel_max(t[0]); }, {x}, tol.rtol,
                 tol.atol);
      compare_op([](const std::vector<Tensor>& t) { return channel_mean(t[0]); }, {x}, tol.rtol,
                 tol.atol);
    }
  }
}

TEST_CASE("pooling on the GPU reads non-contiguous views", "[gpu][pool]") {
  Generator gen(25);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = pool_tol(dt);
    Tensor x = random_input({2, 6, 11, 16}, gen, -1.0, 1.0, dt);
    const std::vector<std::function<Tensor(const Tensor&)>> ops = {
        [](const Tensor& t) { return avg_pool2d(t, square(3, 2, 1, true, false)); },
        [](const Tensor& t) { return max_pool2d(t, square(3, 2, 1)); },
        [](const Tensor& t) { return adaptive_avg_pool2d(t, 3, 4); },
        [](const Tensor& t) { return channel_max(t); },
        [](const Tensor& t) { return channel_mean(t); }};
    for (const auto& op : ops) {
      compare_op([&op](const std::vector<Tensor>& t) { return op(narrow(t[0], 3, 2, 9)); }, {x},
                 tol.rtol, tol.atol);
    }
  }
}

TEST_CASE("pooling gradients on the GPU are bit-identical to the CPU's", "[gpu][pool]") {
  DebugChecks debug;
  Generator gen(24);
  // Values from a small set so that max pooling and channel max meet ties.
  Tensor base = rand_uniform({2, 9, 15, 17}, 0.0, 4.0, gen, DType::F32);
  std::vector<double> rounded = base.to_doubles();
  for (double& v : rounded) v = std::floor(v);
  const Tensor x_cpu = Tensor::from_doubles(rounded, base.shape(), DType::F32);
  const std::vector<std::function<Tensor(const Tensor&)>> ops = {
      [](const Tensor& t) { return avg_pool2d(t, square(3, 2, 1, true, false)); },
      [](const Tensor& t) { return avg_pool2d(t, square(5, 2, 2)); },
      [](const Tensor& t) { return max_pool2d(t, square(3, 2, 1, true)); },
      [](const Tensor& t) { return max_pool2d(t, square(3, 1, 1)); },
      [](const Tensor& t) { return adaptive_avg_pool2d(t, 4, 6); },
      [](const Tensor& t) { return adaptive_avg_pool2d(t, 1, 1); },
      [](const Tensor& t) { return channel_max(t); },
      [](const Tensor& t) { return channel_mean(t); }};
  for (size_t i = 0; i < ops.size(); ++i) {
    INFO("op " << i);
    Tensor xc = x_cpu.clone();
    xc.set_requires_grad(true);
    Tensor xg = x_cpu.to(kGpu);
    xg.set_requires_grad(true);
    Tensor yc = ops[i](xc), yg = ops[i](xg);
    REQUIRE(yg.to_doubles() == yc.to_doubles());  // ties: the same (first) maximum
    Tensor seed = rand_uniform(yc.shape(), -1.0, 1.0, gen, DType::F32);
    yc.backward(seed);
    yg.backward(seed.to(kGpu));
    REQUIRE(xg.grad().to_doubles() == xc.grad().to_doubles());
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}
