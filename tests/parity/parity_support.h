// The PyTorch parity harness (llm.c's pattern): a Python script in tools/reference builds the
// same model in PyTorch, runs one forward/backward and writes weights, input, outputs, loss and
// every parameter gradient into a safetensors file; the test loads it into rtseg by name, runs
// the same step and compares tensor by tensor.
//
// Each parity executable names its reference file with RTSEG_PARITY_REFERENCE_FILE(file); the
// runner they share (parity_main.cpp, Catch2's implementation compiled once) exits 77 (CTest:
// skipped) when that file is absent, i.e. when no Python with PyTorch was found at configure time.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "core/safetensors.h"
#include "layers/module.h"
#include "layers/state_dict.h"

namespace rtseg::parity {

inline std::string data_dir() {
  const char* dir = std::getenv("RTSEG_PARITY_DIR");
  return dir ? dir : ".";
}

inline std::string reference_path(const std::string& file) { return data_dir() + "/" + file; }

// Entries under "<prefix>/" with the prefix removed.
inline std::map<std::string, Tensor> section(const SafetensorsFile& f, const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const std::string& name : f.names()) {
    if (name.rfind(prefix + "/", 0) == 0) out[name.substr(prefix.size() + 1)] = f.tensor(name);
  }
  return out;
}

// Loads "param/*" and "buffer/*" into the module; every key must match (strict).
inline void load_reference_weights(Module& m, const SafetensorsFile& f) {
  std::map<std::string, Tensor> all = section(f, "param");
  for (auto& [k, t] : section(f, "buffer")) all[k] = t;
  load_state_dict(m, all, true);
}

// max|a − b| / max(max|b|, floor): one number per tensor, insensitive to elements near zero.
inline double normalized_error(const Tensor& actual, const Tensor& expected, double floor = 1e-6) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_doubles(), b = expected.to_doubles();
  double diff = 0, scale = floor;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) return INFINITY;
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return diff / scale;
}

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_doubles()) m = std::max(m, std::abs(v));
  return m;
}

inline void require_match(const std::string& what, const Tensor& actual, const Tensor& expected,
                          double tolerance) {
  const double e = normalized_error(actual, expected);
  INFO(what << ": normalized error " << e << " (tolerance " << tolerance << ", max |ref| "
            << max_abs(expected) << ")");
  CHECK(e <= tolerance);
}

inline double max_abs(const Tensor& t);

// Compares every parameter's gradient with "grad/<key>". Each tensor's error is normalized by
// max(max |reference|, 1e-3 × the largest reference gradient of the whole net), so gradients that
// are zero by construction (a bias right before a training-mode BN) are judged on the scale of the
// net's gradients rather than on their own rounding noise.
inline void require_gradients_match(const Module& m, const SafetensorsFile& f, double tolerance) {
  const std::map<std::string, Tensor> grads = section(f, "grad");
  double largest = 0;
  for (const auto& [k, g] : grads) largest = std::max(largest, max_abs(g));
  size_t compared = 0;
  for (const auto& [name, p] : m.named_parameters()) {
    auto it = grads.find(name);
    INFO("parameter " << name);
    REQUIRE(it != grads.end());
    REQUIRE(p.grad().defined());
    const double e = normalized_error(p.grad(), it->second, 1e-3 * largest);
    INFO("grad " << name << ": normalized error " << e << " (tolerance " << tolerance
                 << ", max |ref| " << max_abs(it->second) << ", net's largest " << largest << ")");
    CHECK(e <= tolerance);
    ++compared;
  }
  REQUIRE(compared == grads.size());
}

}  // namespace rtseg::parity

// The reference file of this executable, read by parity_main.cpp.
namespace rtseg::parity {
extern const char* const reference_file;
}
#define RTSEG_PARITY_REFERENCE_FILE(file) const char* const rtseg::parity::reference_file = file;
