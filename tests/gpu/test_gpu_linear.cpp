// matmul and linear on the GPU (cuBLAS) against the CPU reference: forward and every gradient,
// float32 and float64, odd sizes, batch 1 and 2, a non-contiguous input, TF32 on and off.
//
// Tolerance, per element: |gpu − ref| ≤ rel · M with ref the float64 CPU result on the same
// (float32-representable) inputs and M the same product on absolute values (Σ|terms|). float32:
// rel = (L + 2)·2⁻²⁴ with L the inner dimension of that product (k forward, n for da, m for db;
// the batch for the bias gradient), the worst-case bound of a float32 sum of L products in any
// order; float64: rel = 1e-10. TF32 adds 2⁻⁹ (both factors rounded or truncated to 10 bits).
#include "../test_support.h"
#include "gpu_compare.h"
#include "kernels/cuda/runtime/context.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

Tensor float_exact(const Shape& shape, Generator& gen) {
  return rand_uniform(shape, -1, 1, gen, DType::F32).to(DType::F64);
}

Tensor abs_of(const Tensor& t) {
  std::vector<double> v = t.to_doubles();
  for (double& e : v) e = std::abs(e);
  return Tensor::from_doubles(v, t.shape(), DType::F64);
}

void require_within(const Tensor& gpu, const Tensor& ref, const Tensor& magnitude, double rel,
                    const char* what) {
  INFO(what << " " << gpu.describe());
  REQUIRE(gpu.defined());
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(gpu.shape() == ref.shape());
  const std::vector<double> g = gpu.to_doubles(), r = ref.to_doubles(), m = magnitude.to_doubles();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    REQUIRE_FALSE(std::isnan(g[i]));
    const double err = std::abs(g[i] - r[i]), allowed = rel * m[i];
    const double ratio = allowed > 0 ? err / allowed : (err == 0 ? 0.0 : INFINITY);
    if (ratio > worst) worst = ratio, at = i;
  }
  INFO("worst element " << at << ": gpu " << g[at] << " reference " << r[at] << " magnitude "
                        << m[at]);
  REQUIRE(worst <= 1.0);
}

struct Results {
  Tensor out, g0, g1, g2;
};

// f(inputs) and the gradients of a backward with `seed`, inputs converted to dtype and device.
Results run(const std::function<Tensor(const std::vector<Tensor>&)>& f,
            const std::vector<Tensor>& inputs64, const Tensor& seed64, DType dt, Device dev) {
  std::vector<Tensor> in;
  for (const Tensor& t : inputs64) {
    Tensor v = t.defined() ? t.to(dt).to(dev) : Tensor();
    if (v.defined()) v.set_requires_grad(true);
    in.push_back(v);
  }
  Tensor out = f(in);
  out.backward(seed64.to(dt).to(dev));
  Results r{out, in[0].grad(), in[1].grad(), Tensor()};
  if (in.size() > 2 && in[2].defined()) r.g2 = in[2].grad();
  return r;
}

double rel_for(DType dt, double l, double tf32_extra) {
  return dt == DType::F32 ? (l + 2) * std::ldexp(1.0, -24) + tf32_extra : 1e-10;
}

// matmul a (m×k) · b (k×n); `strided_b` feeds b as a column window of a wider matrix (a
// non-contiguous view; the gradient of the unused columns must come back exactly 0).
void check_matmul(int64_t m, int64_t k, int64_t n, DType dt, uint64_t seed, bool strided_b,
                  double tf32_extra = 0) {
  INFO("matmul " << m << "×" << k << " · " << k << "×" << n << " " << dtype_name(dt)
                 << (strided_b ? " (b a strided view)" : ""));
  DebugChecks debug;
  Generator gen(seed);
  const Tensor a = float_exact({m, k}, gen);
  const Tensor b = float_exact({k, strided_b ? n + 3 : n}, gen);
  const Tensor dc = float_exact({m, n}, gen);
  auto f = [strided_b, n](const std::vector<Tensor>& v) {
    return matmul(v[0], strided_b ? narrow(v[1], 1, 1, n) : v[1]);
  };
  const Results ref = run(f, {a, b}, dc, DType::F64, Device::cpu());
  const Results mag = run(f, {abs_of(a), abs_of(b)}, abs_of(dc), DType::F64, Device::cpu());
  const Results gpu = run(f, {a, b}, dc, dt, kGpu);
  require_within(gpu.out, ref.out, mag.out, rel_for(dt, double(k), tf32_extra), "product");
  require_within(gpu.g0, ref.g0, mag.g0, rel_for(dt, double(n), tf32_extra), "grad a");
  require_within(gpu.g1, ref.g1, mag.g1, rel_for(dt, double(m), tf32_extra), "grad b");
  REQUIRE(cuda::take_guard_violations() == 0);
}

void check_linear(int64_t batch, int64_t in, int64_t out, bool bias, DType dt, uint64_t seed,
                  double tf32_extra = 0) {
  INFO("linear batch " << batch << " " << in << " -> " << out << (bias ? " bias " : " ")
                       << dtype_name(dt));
  DebugChecks debug;
  Generator gen(seed);
  const Tensor x = float_exact({batch, in}, gen), w = float_exact({out, in}, gen);
  const Tensor b = bias ? float_exact({out}, gen) : Tensor();
  const Tensor dy = float_exact({batch, out}, gen);
  auto f = [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); };
  const Results ref = run(f, {x, w, b}, dy, DType::F64, Device::cpu());
  const Results mag = run(f, {abs_of(x), abs_of(w), bias ? abs_of(b) : Tensor()}, abs_of(dy),
                          DType::F64, Device::cpu());
  const Results gpu = run(f, {x, w, b}, dy, dt, kGpu);
  require_within(gpu.out, ref.out, mag.out, rel_for(dt, double(in + 1), tf32_extra), "output");
  require_within(gpu.g0, ref.g0, mag.g0, rel_for(dt, double(out), tf32_extra), "grad input");
  require_within(gpu.g1, ref.g1, mag.g1, rel_for(dt, double(batch), tf32_extra), "grad weight");
  if (bias) require_within(gpu.g2, ref.g2, mag.g2, rel_for(dt, double(batch), 0), "grad bias");
  REQUIRE(cuda::take_guard_violations() == 0);
}

}  // namespace

TEST_CASE("matmul on the GPU", "[gpu][linear]") {
  uint64_t seed = 1;
  for (DType dt : {DType::F32, DType::F64}) {
    check_matmul(1, 1, 1, dt, ++seed, false);
    check_matmul(17, 23, 19, dt, ++seed, false);
    check_matmul(2, 37, 5, dt, ++seed, true);
    check_matmul(33, 1, 65, dt, ++seed, false);     // rank-1 outer product
    check_matmul(129, 300, 257, dt, ++seed, true);  // larger, odd, b non-contiguous
  }
}

TEST_CASE("linear on the GPU", "[gpu][linear]") {
  uint64_t seed = 100;
  for (DType dt : {DType::F32, DType::F64}) {
    for (int64_t batch : {1, 2}) {
      check_linear(batch, 23, 19, true, dt, ++seed);
      check_linear(batch, 37, 5, false, dt, ++seed);
    }
    check_linear(64, 960, 19, true, dt, ++seed);  // a classifier head over pooled features
    check_linear(7, 1, 33, true, dt, ++seed);     // one input feature
  }
}

TEST_CASE("matmul and linear with TF32 on stay within TF32 rounding", "[gpu][linear]") {
  cuda::Context& ctx = cuda::context(0);
  ctx.set_tf32(true);
  struct Restore {
    cuda::Context& c;
    ~Restore() { c.set_tf32(false); }
  } restore{ctx};
  check_matmul(129, 300, 257, DType::F32, 200, false, std::ldexp(1.0, -9));
  check_linear(2, 960, 19, true, DType::F32, 201, std::ldexp(1.0, -9));
}
