// Helpers shared by the tests: random inputs, closeness checks, and the finite-difference
// gradient checker (Caffe's: central differences in float64, tolerance scaled by
// max(|analytic|, |numeric|, 1), elements at kinks skipped).
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/random.h"
#include "core/tensor.h"

namespace rtseg::testing {

// A float64 leaf with uniform values in [low, high) that requires a gradient.
inline Tensor random_input(const Shape& shape, Generator& gen, double low = -1.0, double high = 1.0,
                           DType dtype = DType::F64) {
  Tensor t = rand_uniform(shape, low, high, gen, dtype);
  t.set_requires_grad(true);
  return t;
}

// Largest |a − b| / (atol + rtol·|b|) over all elements; ≤ 1 means "close". b is the reference.
inline double closeness(const Tensor& a, const Tensor& b, double rtol, double atol) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> va = a.to_doubles(), vb = b.to_doubles();
  double worst = 0.0;
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) || std::isnan(vb[i])) return INFINITY;
    worst = std::max(worst, std::abs(va[i] - vb[i]) / (atol + rtol * std::abs(vb[i])));
  }
  return worst;
}

inline void require_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-6,
                          double atol = 1e-6) {
  INFO("actual " << actual.describe() << " expected " << expected.describe());
  REQUIRE(actual.shape() == expected.shape());
  REQUIRE(closeness(actual, expected, rtol, atol) <= 1.0);
}

inline void require_values(const Tensor& actual, const std::vector<double>& expected,
                           double tol = 1e-6) {
  const std::vector<double> v = actual.to_doubles();
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i);
    REQUIRE(v[i] == Approx(expected[i]).margin(tol).epsilon(tol));
  }
}

// Expects `body` to throw an rtseg::Error whose message contains `fragment`.
template <typename F>
void require_error(F&& body, const std::string& fragment) {
  try {
    body();
  } catch (const Error& e) {
    INFO("message: " << e.what());
    REQUIRE(std::string(e.what()).find(fragment) != std::string::npos);
    return;
  }
  FAIL("expected an rtseg::Error containing '" << fragment << "'");
}

struct GradCheckOptions {
  double step = 1e-6;
  double tolerance = 1e-6;
  // Fraction of elements that may be skipped as kinks before the check fails.
  double max_kink_fraction = 0.1;
  uint64_t seed = 1234;
  // When > 0, only this many elements (drawn with `seed`) of each input are checked: for whole
  // nets, where every element would mean millions of forwards.
  int64_t max_elements_per_input = 0;
};

struct GradCheckResult {
  double worst = 0.0;   // largest |analytic − numeric| / max(|analytic|, |numeric|, 1)
  std::string where;    // which input and element that was
  int64_t kinks = 0;    // elements skipped as kinks
  int64_t checked = 0;  // elements compared
  bool kink_limit_exceeded = false;
};

// Compares the autograd gradients of `f` with respect to every input that requires grad with
// central finite differences. f maps the inputs to any tensor; the scalar differentiated is
// Σ f(inputs) ⊙ R for a fixed random R, so every output element contributes. Inputs must be
// contiguous float64 CPU leaves.
inline GradCheckResult check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                       const std::vector<Tensor>& inputs,
                                       const GradCheckOptions& opt = {}) {
  GradCheckResult result;
  Generator gen(opt.seed);
  Tensor out = f(inputs);
  REQUIRE(out.dtype() == DType::F64);
  const Tensor weights = rand_uniform(out.shape(), -1.0, 1.0, gen, DType::F64);
  auto objective = [&]() {
    autograd::NoGradGuard no_grad;
    return sum(mul(f(inputs), weights)).item();
  };
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad()) x.zero_grad();
  }
  Tensor loss = sum(mul(out, weights));
  REQUIRE(loss.requires_grad());
  loss.backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    REQUIRE(x.is_contiguous());
    REQUIRE(x.dtype() == DType::F64);
    const Tensor grad = x.grad();
    REQUIRE(grad.defined());
    const std::vector<double> analytic = grad.to_doubles();
    double* p = x.data<double>();
    int64_t kinks = 0;
    std::vector<int64_t> elements;
    if (opt.max_elements_per_input > 0 && opt.max_elements_per_input < x.numel()) {
      for (int64_t j = 0; j < opt.max_elements_per_input; ++j)
        elements.push_back(gen.randint(x.numel()));
    } else {
      for (int64_t j = 0; j < x.numel(); ++j) elements.push_back(j);
    }
    for (int64_t i : elements) {
      const double original = p[i];
      const double f0 = objective();
      p[i] = original + opt.step;
      const double fp = objective();
      p[i] = original - opt.step;
      const double fm = objective();
      p[i] = original;
      const double numeric = (fp - fm) / (2 * opt.step);
      // One-sided slopes that disagree by much more than truncation error mean a kink.
      const double right = (fp - f0) / opt.step, left = (f0 - fm) / opt.step;
      if (std::abs(right - left) > 1e-3 * std::max({std::abs(right), std::abs(left), 1.0})) {
        ++kinks;
        continue;
      }
      ++result.checked;
      const double scale = std::max({std::abs(analytic[i]), std::abs(numeric), 1.0});
      const double error = std::abs(analytic[i] - numeric) / scale;
      if (error > result.worst) {
        result.worst = error;
        std::ostringstream where;
        where << "input " << k << " " << x.describe() << " element " << i << ": analytic "
              << analytic[i] << " numeric " << numeric;
        result.where = where.str();
      }
    }
    result.kinks += kinks;
  }
  result.kink_limit_exceeded =
      result.kinks > opt.max_kink_fraction * static_cast<double>(result.kinks + result.checked);
  return result;
}

// check_gradients, failing the test on a mismatch or on too many kinks.
inline void gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& inputs, GradCheckOptions opt = {}) {
  const GradCheckResult r = check_gradients(f, inputs, opt);
  INFO("worst relative error " << r.worst << " at " << r.where << "; " << r.kinks
                               << " kinks skipped, " << r.checked << " elements checked");
  REQUIRE(r.checked > 0);
  REQUIRE(!r.kink_limit_exceeded);
  REQUIRE(r.worst <= opt.tolerance);
}

}  // namespace rtseg::testing
