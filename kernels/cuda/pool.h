// CUDA entry points of the pooling family (see core/ops/pool.h for the semantics). Pointers are
// device pointers to contiguous NCHW data; every call is asynchronous on the stream of `exec`.
// Outputs and input gradients are overwritten entirely. The per-element arithmetic is shared with
// the CPU tests through kernels/pool_element.h; backward passes are gathers (one thread per input
// element, no atomics), so gradients are deterministic and equal to the CPU reference's bit for
// bit.
#pragma once

#include <cstdint>

#include "kernels/cuda/exec.h"
#include "kernels/pool_geometry.h"

namespace rtseg::cuda {

template <typename T>
void avg_pool2d_forward(const Exec& exec, T* out, const T* x, const Pool2dGeometry& g,
                        bool count_include_pad);
template <typename T>
void avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const Pool2dGeometry& g,
                         bool count_include_pad);

// argmax: per output, the position h·in_w + w of its maximum within the plane; not written
// when null (no gradient wanted).
template <typename T>
void max_pool2d_forward(const Exec& exec, T* out, int64_t* argmax, const T* x,
                        const Pool2dGeometry& g);
template <typename T>
void max_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                         const Pool2dGeometry& g);

template <typename T>
void adaptive_avg_pool2d_forward(const Exec& exec, T* out, const T* x, int64_t planes, int64_t in_h,
                                 int64_t in_w, int64_t out_h, int64_t out_w);
template <typename T>
void adaptive_avg_pool2d_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t planes,
                                  int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w);

// Across channels of N×C×S into N×1×S; argmax holds k·S + s of the first maximal channel.
template <typename T>
void channel_max_forward(const Exec& exec, T* out, int64_t* argmax, const T* x, int64_t n,
                         int64_t c, int64_t s);
template <typename T>
void channel_max_backward(const Exec& exec, T* grad_in, const T* grad_out, const int64_t* argmax,
                          int64_t n, int64_t c, int64_t s);
template <typename T>
void channel_mean_forward(const Exec& exec, T* out, const T* x, int64_t n, int64_t c, int64_t s);
template <typename T>
void channel_mean_backward(const Exec& exec, T* grad_in, const T* grad_out, int64_t n, int64_t c,
                           int64_t s);

}  // namespace rtseg::cuda
