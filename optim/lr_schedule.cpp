#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace rtseg {

double PolySchedule::factor(int64_t iter) const {
  RTSEG_CHECK(max_iter > 0, "PolySchedule: max_iter must be positive, got {}", max_iter);
  RTSEG_CHECK(iter >= 0, "PolySchedule: negative iteration {}", iter);
  const double progress = std::min(1.0, static_cast<double>(iter) / static_cast<double>(max_iter));
  double f = std::pow(1.0 - progress, power);
  if (iter < warmup_iters) {
    f *= warmup_ratio + (1.0 - warmup_ratio) * static_cast<double>(iter) / warmup_iters;
  }
  return f;
}

void PolySchedule::apply(SGD& optimizer, int64_t iter) const {
  const double f = factor(iter);
  for (ParamGroup& g : optimizer.groups()) g.hyper.lr = g.initial_lr * f;
}

}  // namespace rtseg
