// The execution context a CUDA kernel entry point takes as its first argument; its CPU twin takes
// cpu::Exec (kernels/cpu/exec.h) and otherwise the same arguments (core/kernel_dispatch.h).
// Declared without CUDA headers, like the stream type, so that the ops compile in CPU-only builds.
#pragma once

#include "kernels/cuda/runtime/stream.h"

namespace rtseg::cuda {

// Kernels launch on `stream`; cuDNN and cuBLAS take the handles of `device`'s context.
struct Exec {
  Stream stream = nullptr;
  int device = 0;
};

}  // namespace rtseg::cuda
