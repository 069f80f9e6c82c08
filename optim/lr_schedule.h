// Learning-rate schedules, evaluated per iteration (0-based `iter`).
//   poly:    lr = base · (1 − iter / max_iter)^power          (power 0.9 in every recipe here)
//   warm-up: for iter < warmup_iters, lr is scaled linearly from ratio·lr up to lr:
//            lr_warm = lr · (ratio + (1 − ratio) · iter / warmup_iters)
// PIDNet's recipe computes poly over END_EPOCH·iters_per_epoch even when training stops earlier.
#pragma once

#include <cstdint>

#include "optim/sgd.h"

namespace rtseg {

struct PolySchedule {
  int64_t max_iter = 1;
  double power = 0.9;
  int64_t warmup_iters = 0;
  double warmup_ratio = 0.1;

  // The factor applied to a group's initial learning rate at iteration `iter`.
  double factor(int64_t iter) const;
  // Sets every group's lr to initial_lr · factor(iter).
  void apply(SGD& optimizer, int64_t iter) const;
};

}  // namespace rtseg
