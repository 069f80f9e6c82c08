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
