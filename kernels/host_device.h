// RTSEG_HOST_DEVICE marks the small inline helpers that CPU reference kernels and CUDA kernels
// share (geometry, per-element formulas): __host__ __device__ under nvcc, nothing elsewhere, so
// the same header compiles in CPU-only builds. The definition is guarded and identical to the
// one in kernels/conv_geometry.h, so the two headers can be included in any order.
#pragma once

#ifndef RTSEG_HOST_DEVICE
#ifdef __CUDACC__
#define RTSEG_HOST_DEVICE __host__ __device__
#else
#define RTSEG_HOST_DEVICE
#endif
#endif

// A math function in shared code: CUDA's device overloads (float and double) are in the global
// namespace, the host's in std::, so RTSEG_MATH(exp)(x) picks the one for the side compiled.
#ifndef RTSEG_MATH
#ifdef __CUDA_ARCH__
#define RTSEG_MATH(fn) ::fn
#else
#define RTSEG_MATH(fn) std::fn
#endif
#endif
