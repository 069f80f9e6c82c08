// Seeded random numbers, identical on every platform and run: xoshiro256** seeded through
// splitmix64, with our own uniform and normal transforms (std::normal_distribution differs
// between standard libraries). Generators are passed explicitly; there is no hidden global one.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace rtseg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(uint64_t seed);

  uint64_t next_u64();
  double uniform();            // [0, 1) with 53 random bits
  double normal();             // standard normal (Box–Muller, both values used)
  int64_t randint(int64_t n);  // uniform in [0, n)

  // The full state, for checkpoints that must resume bit-identically.
  struct State {
    std::array<uint64_t, 4> s;
    bool has_spare;
    double spare;
  };
  State state() const { return {s_, has_spare_, spare_}; }
  void set_state(const State& st);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

enum class FanMode { FanIn, FanOut };

Tensor rand_uniform(const Shape& shape, double low, double high, Generator& gen,
                    DType dtype = DType::F32);
Tensor rand_normal(const Shape& shape, double mean, double stddev, Generator& gen,
                   DType dtype = DType::F32);
// He initialisation: normal(0, gain / sqrt(fan)), fan = shape[1]·R·S (FanIn) or shape[0]·R·S
// (FanOut) for a K×C×R×S (or out×in) weight; gain sqrt(2) suits ReLU.
Tensor kaiming_normal(const Shape& shape, Generator& gen, FanMode mode = FanMode::FanIn,
                      double gain = 1.4142135623730951, DType dtype = DType::F32);

}  // namespace rtseg
