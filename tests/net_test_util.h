// Helpers for the whole-net tests: the reference state_dict key lists of tests/data/keys
// (name<TAB>shape<TAB>kind per line, see its README.md), non-trivial BN statistics, and
// per-parameter gradient magnitudes.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/random.h"
#include "layers/batch_norm.h"
#include "layers/module.h"

namespace rtseg::testing {

struct KeyLine {
  std::string name, shape, kind;  // shape "32,3,3,3" ("" for a scalar); kind "param" or "buffer"
};

// The lines of tests/data/keys/<file>.
inline std::vector<KeyLine> read_key_list(const std::string& file) {
  std::ifstream in(std::string(RTSEG_SOURCE_DIR) + "/tests/data/keys/" + file);
  std::vector<KeyLine> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    KeyLine k;
    std::getline(fields, k.name, '\t');
    std::getline(fields, k.shape, '\t');
    std::getline(fields, k.kind, '\t');
    out.push_back(k);
  }
  return out;
}

inline std::string shape_csv(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out;
}

// The module's state_dict in order, as key lines.
inline std::vector<KeyLine> key_lines_of(const Module& m) {
  std::set<std::string> params;
  for (const auto& [k, t] : m.named_parameters()) params.insert(k);
  std::vector<KeyLine> out;
  for (const auto& [k, t] : m.state_dict())
    out.push_back({k, shape_csv(t.shape()), params.count(k) ? "param" : "buffer"});
  return out;
}

// `actual[offset ...]` equals `expected` line by line.
inline void require_key_lines(const std::vector<KeyLine>& actual,
                              const std::vector<KeyLine>& expected, size_t offset = 0) {
  REQUIRE(actual.size() >= offset + expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << offset + i << ": " << actual[offset + i].name << " expected "
                  << expected[i].name);
    REQUIRE(actual[offset + i].name == expected[i].name);
    REQUIRE(actual[offset + i].shape == expected[i].shape);
    REQUIRE(actual[offset + i].kind == expected[i].kind);
  }
}

// Non-trivial BN statistics and affine parameters, so that eval-mode BNs scale and shift.
inline void randomize_batch_norms(Module& net, Generator& gen) {
  for (const auto& [path, m] : net.named_modules()) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(m)) {
      const int64_t c = bn->channels();
      bn->weight.copy_from(rand_uniform({c}, 0.5, 1.5, gen));
      bn->bias.copy_from(rand_uniform({c}, -0.3, 0.3, gen));
      bn->running_mean.copy_from(rand_uniform({c}, -0.3, 0.3, gen));
      bn->running_var.copy_from(rand_uniform({c}, 0.5, 1.5, gen));
    }
  }
}

// max |gradient| of every parameter relative to the largest over the net; requires every
// gradient to be defined and finite.
inline std::map<std::string, double> relative_gradients(const Module& net) {
  std::map<std::string, double> out;
  double largest = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    double m = 0;
    bool finite = true;
    for (double g : p.grad().to_doubles()) {
      finite = finite && std::isfinite(g);
      m = std::max(m, std::abs(g));
    }
    REQUIRE(finite);
    out[name] = m;
    largest = std::max(largest, m);
  }
  for (auto& [name, m] : out) m /= largest;
  return out;
}

}  // namespace rtseg::testing
