// Reference dropout kernel: applies a keep-mask drawn by the op (core/ops/norm.cpp), the same
// arithmetic as kernels/cuda/dropout.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/exec.h"

namespace rtseg::cpu {

// out[i] = in[i] · (keep[i] ? scale : 0): multiplying even dropped elements, so an inf or NaN
// input gives NaN there, as x · mask does in PyTorch.
template <typename T>
void dropout_apply(const Exec& exec, T* out, const T* in, const uint8_t* keep, T scale, int64_t n) {
  exec.for_ranges(n, grain_for(1), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = in[i] * (keep[i] ? scale : T(0));
  });
}

}  // namespace rtseg::cpu
