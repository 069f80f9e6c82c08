// The one kernel dispatch (core/kernel_dispatch.h): which execution context a body gets for each
// backend and dtype, that an unqualified kernel call reaches the fast overload where one exists
// and the reference elsewhere, and that an op through it really runs the fast kernel.
#include <type_traits>

#include "core/kernel_dispatch.h"
#include "core/ops/norm.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu_fast/batch_norm.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

// Stand-in kernels, found by argument-dependent lookup as the real ones are.
namespace rtseg::cpu {
template <typename T>
const char* which_kernel(const Exec&, T*) {
  return "reference";
}
template <typename T>
const char* reference_only(const Exec&, T*) {
  return "reference";
}
}  // namespace rtseg::cpu
namespace rtseg::cpu_fast {
inline const char* which_kernel(const Exec&, float*) { return "fast"; }
}  // namespace rtseg::cpu_fast

namespace {

enum class Context { Reference, Fast, Cuda };

template <typename E>
Context context_of(const E&) {
  if constexpr (std::is_same_v<E, cpu_fast::Exec>) return Context::Fast;
  if constexpr (std::is_same_v<E, cpu::Exec>) return Context::Reference;
  return Context::Cuda;
}

struct Seen {
  Context context{};
  bool parallel = false;
  std::string kernel, reference_only;
};

Seen dispatch_on(const Tensor& x) {
  Seen seen;
  RTSEG_DISPATCH_KERNELS(x, "test", [&](const auto& exec) {
    seen.context = context_of(exec);
    if constexpr (!std::is_same_v<std::decay_t<decltype(exec)>, cuda::Exec>) {
      seen.parallel = exec.parallel != nullptr;
      seen.kernel = which_kernel(exec, x.data<scalar_t>());
      seen.reference_only = reference_only(exec, x.data<scalar_t>());
    }
  });
  return seen;
}

}  // namespace

TEST_CASE("the reference backend gets a serial CPU context and the reference kernels",
          "[dispatch]") {
  CpuBackendGuard reference(Backend::CpuReference);
  for (DType dtype : {DType::F32, DType::F64}) {
    const Seen seen = dispatch_on(Tensor::zeros({2}, dtype));
    CHECK(seen.context == Context::Reference);
    CHECK_FALSE(seen.parallel);
    CHECK(seen.kernel == "reference");
    CHECK(seen.reference_only == "reference");
  }
}

#ifdef RTSEG_HAVE_CPU_FAST
TEST_CASE("the fast backend gets the pool's context: fast overloads first, else the reference",
          "[dispatch]") {
  CpuBackendGuard fast(Backend::CpuFast);
  const Seen f32 = dispatch_on(Tensor::zeros({2}, DType::F32));
  CHECK(f32.context == Context::Fast);
  CHECK(f32.parallel);
  CHECK(f32.kernel == "fast");
  CHECK(f32.reference_only == "reference");
  // float64 is the gradient checks' type: always the reference.
  const Seen f64 = dispatch_on(Tensor::zeros({2}, DType::F64));
  CHECK(f64.context == Context::Reference);
  CHECK(f64.kernel == "reference");
}

TEST_CASE("batch_norm on the fast backend runs the fast kernels", "[dispatch][bn]") {
  // The fast backward computes dx in float, the reference in double: their bits differ, so
  // comparing with each says which one ran.
  CpuBackendGuard fast(Backend::CpuFast);
  Generator gen(11);
  const int64_t n = 3, c = 5, s = 37;
  Tensor x = rand_uniform({n, c, s}, -2, 3, gen).set_requires_grad(true);
  Tensor gamma = rand_uniform({c}, 0.5, 1.5, gen).set_requires_grad(true);
  Tensor go = rand_uniform({n, c, s}, -1, 1, gen);
  Tensor y = batch_norm(x, gamma, Tensor(), Tensor(), Tensor(), true);
  y.backward(go);

  // The fast kernels by hand; the reference backward from the same statistics.
  std::vector<float> mean(c), var(c), invstd(c), yy(n * c * s);
  cpu_fast::batch_norm_stats(cpu_fast::Exec{}, mean.data(), var.data(), x.data<float>(), n, c, s,
                             nullptr);
  cpu_fast::batch_norm_forward(cpu_fast::Exec{}, yy.data(), invstd.data(), x.data<float>(),
                               mean.data(), var.data(), gamma.data<float>(), nullptr, n, c, s,
                               1e-5);
  CHECK(std::vector<float>(y.data<float>(), y.data<float>() + n * c * s) == yy);
  std::vector<float> dx_fast(n * c * s), dx_reference(n * c * s);
  cpu_fast::batch_norm_backward(cpu_fast::Exec{}, dx_fast.data(), nullptr, nullptr,
                                go.data<float>(), x.data<float>(), mean.data(), invstd.data(),
                                gamma.data<float>(), n, c, s, true, nullptr);
  cpu::batch_norm_backward<float>(cpu::Exec{}, dx_reference.data(), nullptr, nullptr,
                                  go.data<float>(), x.data<float>(), mean.data(), invstd.data(),
                                  gamma.data<float>(), n, c, s, true, nullptr);
  REQUIRE(dx_fast != dx_reference);  // else this test could not tell them apart
  const std::vector<float> dx(x.grad().data<float>(), x.grad().data<float>() + n * c * s);
  CHECK(dx == dx_fast);
}
#endif
