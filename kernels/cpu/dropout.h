// Reference dropout kernel: applies a keep-mask drawn by the op (core/ops/norm.cpp), the same
// arithmetic as kernels/cuda/dropout.h.
#pragma once

#include <cstdint>

namespace rtseg::cpu {

// out[i] = in[i] · (keep[i] ? scale : 0): multiplying even dropped elements, so an inf or NaN
// input gives NaN there, as x · mask does in PyTorch.
template <typename T>
void dropout_apply(T* out, const T* in, const uint8_t* keep, T scale, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * (keep[i] ? scale : T(0));
}

}  // namespace rtseg::cpu
