// CUDA entry point of dropout: applies a keep-mask that the op draws on the host (see
// core/ops/norm.cpp for why). Pointers are device pointers; asynchronous on the stream of `exec`.
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

// out[i] = in[i] · (keep[i] ? scale : 0) over n contiguous elements: the forward (in = x) and the
// backward (in = the output gradient) alike. The product is taken even for dropped elements, as
// the CPU reference's multiplication by its 0-or-scale mask, so inf/NaN behave the same.
template <typename T>
void dropout_apply(const Exec& exec, T* out, const T* in, const uint8_t* keep, T scale, int64_t n);

}  // namespace rtseg::cuda
