#include "core/random.h"

#include <cmath>

namespace rtseg {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Tensor fill_host(const Shape& shape, DType dtype, Generator& gen,
                 double (*draw)(Generator&, double, double), double a, double b) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = draw(gen, a, b);
  return Tensor::from_doubles(v, shape, dtype);
}

}  // namespace

void Generator::manual_seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
  has_spare_ = false;
  spare_ = 0.0;
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

int64_t Generator::randint(int64_t n) {
  RTSEG_CHECK(n > 0, "randint: range must be positive, got {}", n);
  // Rejection sampling removes the modulo bias.
  const uint64_t un = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return static_cast<int64_t>(x % un);
}

void Generator::set_state(const State& st) {
  s_ = st.s;
  has_spare_ = st.has_spare;
  spare_ = st.spare;
}

Tensor rand_uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  return fill_host(
      shape, dtype, gen,
      [](Generator& g, double lo, double hi) { return lo + (hi - lo) * g.uniform(); }, low, high);
}

Tensor rand_normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype) {
  return fill_host(
      shape, dtype, gen, [](Generator& g, double m, double s) { return m + s * g.normal(); }, mean,
      stddev);
}

Tensor kaiming_normal(const Shape& shape, Generator& gen, FanMode mode, double gain, DType dtype) {
  RTSEG_CHECK(shape.size() >= 2, "kaiming_normal: need a weight of rank >= 2, got {}",
              shape_str(shape));
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  const int64_t fan = (mode == FanMode::FanIn ? shape[1] : shape[0]) * receptive;
  RTSEG_CHECK(fan > 0, "kaiming_normal: zero fan for shape {}", shape_str(shape));
  return rand_normal(shape, 0.0, gain / std::sqrt(static_cast<double>(fan)), gen, dtype);
}

}  // namespace rtseg
