// batch_norm, dropout and prelu on the GPU against the CPU references (forward, every backward,
// the running-statistics update), in float32 and float64, over odd shapes, batch 1 and 2,
// channel counts that are not multiples of 32, and the nets' BN shapes (2×32×180×320 and
// 2×960×45×80).
//
// Tolerances, per op:
// - batch_norm: both devices sum in double and round each statistic to T once; they differ by
//   the order of the double sums (≈1e-16 relative) and, for y = (x − mean)·scale + shift in T,
//   by the fused multiply-add nvcc may form (≤ 2 ulp of terms of size ≲ 6). fp32: rtol 1e-5,
//   atol 1e-5 (covers the FMA on y; dx/dγ/dβ/running stats are within 1–2 ulp). fp64: rtol 1e-10,
//   atol 1e-12 (a different summation order of 10^5 terms of size ~1 moves a sum by ≲ 1e-11).
// - prelu: forward and dx are the same single product on both devices (exact); the slope
//   gradient is a double sum of T products rounded once: fp32 rtol 1e-6 (≈ 8 ulp), atol 1e-7;
//   fp64 rtol 1e-12, atol 1e-12.
// - dropout: the mask is drawn on the host from the same Generator sequence and the product is
//   the same single multiplication, so the results must be bit-identical.
#include "../test_support.h"
#include "gpu_compare.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Tol {
  double rtol, atol;
};

Tol bn_tol(DType dt) { return dt == DType::F32 ? Tol{1e-5, 1e-5} : Tol{1e-10, 1e-12}; }
Tol prelu_tol(DType dt) { return dt == DType::F32 ? Tol{1e-6, 1e-7} : Tol{1e-12, 1e-12}; }

const std::vector<Shape> kBnShapes = {
    {2, 32, 180, 320}, {2, 960, 45, 80}, {1, 33, 7, 9},    {2, 37, 13, 11},
    {2, 5, 1, 1},      {1, 3, 1, 2},     {2, 65, 3, 1, 2}, {6, 7},
};

// Running statistics as a layer keeps them: mean around 0, variance positive.
void running_stats(int64_t c, DType dt, Generator& gen, Tensor& mean, Tensor& var) {
  mean = rand_uniform({c}, -0.5, 0.5, gen, dt);
  var = rand_uniform({c}, 0.5, 2.0, gen, dt);
}

}  // namespace

TEST_CASE("batch_norm training on the GPU: y, dx, dγ, dβ and the running statistics",
          "[gpu][batch_norm]") {
  Generator gen(11);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = bn_tol(dt);
    for (const Shape& shape : kBnShapes) {
      INFO(shape_str(shape) << " " << dtype_name(dt));
      const int64_t c = shape[1];
      // A mean far from 0 checks the two-pass variance too.
      Tensor x = random_input(shape, gen, 2.0, 5.0, dt);
      Tensor gamma = random_input({c}, gen, 0.5, 1.5, dt);
      Tensor beta = random_input({c}, gen, -0.5, 0.5, dt);
      Tensor rm, rv;
      running_stats(c, dt, gen, rm, rv);
      Tensor gpu_rm, gpu_rv;
      compare_op(
          [&](const std::vector<Tensor>& t) {
            if (t[0].device().is_cuda()) gpu_rm = t[3], gpu_rv = t[4];
            return batch_norm(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5);
          },
          {x, gamma, beta, rm, rv}, tol.rtol, tol.atol);
      INFO("running statistics");
      require_gpu_matches(gpu_rm, rm, tol.rtol, tol.atol);
      require_gpu_matches(gpu_rv, rv, tol.rtol, tol.atol);
    }
  }
}

TEST_CASE("batch_norm eval on the GPU, with and without affine parameters", "[gpu][batch_norm]") {
  Generator gen(12);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = bn_tol(dt);
    for (const Shape& shape : kBnShapes) {
      INFO(shape_str(shape) << " " << dtype_name(dt));
      const int64_t c = shape[1];
      Tensor x = random_input(shape, gen, -2.0, 2.0, dt);
      Tensor gamma = random_input({c}, gen, 0.5, 1.5, dt);
      Tensor beta = random_input({c}, gen, -0.5, 0.5, dt);
      Tensor rm, rv;
      running_stats(c, dt, gen, rm, rv);
      compare_op(
          [](const std::vector<Tensor>& t) {
            return batch_norm(t[0], t[1], t[2], t[3], t[4], false, 0.1, 1e-5);
          },
          {x, gamma, beta, rm, rv}, tol.rtol, tol.atol);
      compare_op(
          [](const std::vector<Tensor>& t) {
            return batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], false, 0.1, 1e-3);
          },
          {x, rm, rv}, tol.rtol, tol.atol);
    }
  }
}

TEST_CASE("batch_norm on the GPU: no running statistics, no affine, only dγ and dβ wanted",
          "[gpu][batch_norm]") {
  Generator gen(13);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = bn_tol(dt);
    for (const Shape& shape : {Shape{2, 37, 13, 11}, Shape{1, 33, 7, 9}}) {
      INFO(shape_str(shape) << " " << dtype_name(dt));
      Tensor x = random_input(shape, gen, -1.0, 1.0, dt);
      compare_op(
          [](const std::vector<Tensor>& t) {
            return batch_norm(t[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
          },
          {x}, tol.rtol, tol.atol);
      // x without a gradient: the backward computes the sums for dγ, dβ and no dx.
      Tensor x_const = rand_uniform(shape, -1.0, 1.0, gen, dt);
      Tensor gamma = random_input({shape[1]}, gen, 0.5, 1.5, dt);
      Tensor beta = random_input({shape[1]}, gen, -0.5, 0.5, dt);
      for (bool training : {true, false}) {
        Tensor rm, rv;
        running_stats(shape[1], dt, gen, rm, rv);
        compare_op(
            [training](const std::vector<Tensor>& t) {
              return batch_norm(t[0], t[1], t[2], t[3], t[4], training);
            },
            {x_const, gamma, beta, rm, rv}, tol.rtol, tol.atol);
      }
    }
  }
}

TEST_CASE("batch_norm and prelu on the GPU read non-contiguous views", "[gpu][batch_norm][prelu]") {
  Generator gen(17);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = bn_tol(dt);
    Tensor x = random_input({2, 7, 9, 16}, gen, -1.0, 1.0, dt);
    Tensor gamma = random_input({7}, gen, 0.5, 1.5, dt);
    Tensor w = random_input({7}, gen, -0.5, 0.5, dt);
    compare_op(
        [](const std::vector<Tensor>& t) {
          return batch_norm(narrow(t[0], 3, 3, 11), t[1], Tensor(), Tensor(), Tensor(), true);
        },
        {x, gamma}, tol.rtol, tol.atol);
    compare_op([](const std::vector<Tensor>& t) { return prelu(narrow(t[0], 3, 3, 11), t[1]); },
               {x, w}, tol.rtol, tol.atol);
  }
}

TEST_CASE("batch_norm's GPU reductions are deterministic", "[gpu][batch_norm]") {
  DebugChecks debug;
  Generator gen(14);
  Tensor x = rand_uniform({2, 32, 180, 320}, -1.0, 3.0, gen).to(kGpu);
  Tensor gamma = rand_uniform({32}, 0.5, 1.5, gen).to(kGpu);
  Tensor seed = rand_uniform(x.shape(), -1.0, 1.0, gen).to(kGpu);
  std::vector<std::vector<double>> runs;
  for (int run = 0; run < 2; ++run) {
    Tensor xi = x.detach().clone();
    xi.set_requires_grad(true);
    Tensor g = gamma.detach().clone();
    g.set_requires_grad(true);
    Tensor y = batch_norm(xi, g, Tensor(), Tensor(), Tensor(), true);
    y.backward(seed);
    std::vector<double> all = y.to_doubles();
    for (const Tensor& t : {xi.grad(), g.grad()}) {
      const std::vector<double> v = t.to_doubles();
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  REQUIRE(runs[0] == runs[1]);
  REQUIRE(cuda::take_guard_violations() == 0);
}

TEST_CASE("prelu on the GPU: per-channel and shared slopes", "[gpu][prelu]") {
  Generator gen(15);
  struct Case {
    Shape x;
    Shape w;
  };
  const std::vector<Case> cases = {
      {{2, 33, 17, 19}, {33}}, {{1, 32, 45, 80}, {32}}, {{2, 64, 90, 160}, {64}},
      {{2, 33, 17, 19}, {1}},  {{5, 7}, {7}},           {{11}, {1}},
      {{2, 3, 5}, {}}};
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = prelu_tol(dt);
    for (const Case& c : cases) {
      INFO(shape_str(c.x) << " weight " << shape_str(c.w) << " " << dtype_name(dt));
      Tensor x = random_input(c.x, gen, -1.0, 1.0, dt);
      Tensor w = random_input(c.w, gen, -0.5, 0.5, dt);
      compare_op([](const std::vector<Tensor>& t) { return prelu(t[0], t[1]); }, {x, w}, tol.rtol,
                 tol.atol);
    }
  }
}

TEST_CASE("dropout on the GPU draws the CPU's mask for the same seed", "[gpu][dropout]") {
  DebugChecks debug;
  Generator data(16);
  for (DType dt : {DType::F32, DType::F64}) {
    for (double p : {0.1, 0.5, 1.0}) {
      INFO(dtype_name(dt) << " p " << p);
      Tensor x_cpu = random_input({2, 19, 33, 7}, data, -1.0, 1.0, dt);
      Tensor x_gpu = x_cpu.detach().to(kGpu);
      x_gpu.set_requires_grad(true);
      Generator a(42), b(42);
      Tensor y_cpu = dropout(x_cpu, p, true, a);
      Tensor y_gpu = dropout(x_gpu, p, true, b);
      REQUIRE(y_gpu.device() == kGpu);
      REQUIRE(y_gpu.to_doubles() == y_cpu.to_doubles());
      REQUIRE(a.next_u64() == b.next_u64());  // both advanced by one draw per element
      // The backward reuses the forward's mask.
      Tensor seed = rand_uniform(x_cpu.shape(), -1.0, 1.0, data, dt);
      y_cpu.backward(seed);
      y_gpu.backward(seed.to(kGpu));
      REQUIRE(x_gpu.grad().to_doubles() == x_cpu.grad().to_doubles());
    }
  }
  // A non-contiguous GPU input draws in logical order, like the CPU.
  Tensor base = rand_uniform({4, 9, 6}, -1.0, 1.0, data);
  Tensor view_gpu = narrow(base.to(kGpu), 1, 2, 5);
  Generator a(8), b(8);
  REQUIRE(dropout(view_gpu, 0.5, true, a).to_doubles() ==
          dropout(narrow(base, 1, 2, 5), 0.5, true, b).to_doubles());
  REQUIRE(cuda::take_guard_violations() == 0);
}
