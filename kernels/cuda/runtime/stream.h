// The stream type of the CUDA kernel entry points, declared without CUDA headers so that the op
// files compile in CPU-only builds (their CUDA calls are compiled out with RTSEG_CUDA_ONLY).
#pragma once

struct CUstream_st;

namespace rtseg::cuda {

using Stream = CUstream_st*;  // == cudaStream_t

// The stream of device `device`'s context (see kernels/cuda/runtime/context.h).
Stream stream_of(int device);
// The device whose context owns `stream`, or -1 for a stream no context owns.
int device_of(Stream stream);

}  // namespace rtseg::cuda

#ifdef RTSEG_HAVE_CUDA
#define RTSEG_CUDA_ONLY(op, ...) __VA_ARGS__
#else
#define RTSEG_CUDA_ONLY(op, ...) \
  ::rtseg::fail("{}: CUDA tensors need an rtseg built with CUDA (RTSEG_CUDA=ON)", op)
#endif
