#include "layers/init.h"

#include <cmath>

namespace rtseg {

int64_t fan_in_of(const Shape& s) {
  RTSEG_CHECK(s.size() >= 2, "fan_in_of: weight shape {} has rank < 2", shape_str(s));
  int64_t fan = s[1];
  for (size_t i = 2; i < s.size(); ++i) fan *= s[i];
  return fan;
}

Tensor default_weight_init(const Shape& shape, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in_of(shape)));
  return rand_uniform(shape, -bound, bound, gen);
}

Tensor default_bias_init(int64_t size, int64_t fan_in, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return rand_uniform({size}, -bound, bound, gen);
}

}  // namespace rtseg
