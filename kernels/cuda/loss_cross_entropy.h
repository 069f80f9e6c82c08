// CUDA entry points of cross_entropy and PIDNet's OHEM cross-entropy (see core/ops/loss.h for the
// semantics, kernels/cpu/loss_cross_entropy.h for the per-pixel formulas). Device pointers;
// every call is asynchronous on the stream of `exec`, and nothing is read back to the host: reduced
// losses, the OHEM threshold and the backward scale factors stay on the device.
//
// Targets are not validated against the class count on the device (that would need a host
// synchronisation): a target outside [0, C) that is not ignore_index is never used as an index;
// its pixel's loss and gradient are NaN, and so is every reduced loss that includes it.
#pragma once

#include <cstdint>

#include "kernels/cpu/loss_cross_entropy.h"
#include "kernels/cuda/exec.h"

namespace rtseg::cuda {

// Reduction::None: loss[i] = w_y·nll at pixel i (0 where ignored).
template <typename T>
void cross_entropy_map(const Exec& exec, T* loss, const T* logits, const int64_t* target,
                       const T* class_weights, const cpu::ClassMapGeometry& g,
                       int64_t ignore_index);

// Bytes of `workspace` that cross_entropy_reduce needs.
int64_t cross_entropy_reduce_workspace_bytes(const Exec&);

// Reduction::Sum (mean false): out[0] = Σ w_y·nll, scale[0] = 1.
// Reduction::Mean: out[0] = Σ w_y·nll / Σ w_y and scale[0] = 1 / Σ w_y (both 0 when Σ w_y = 0).
// scale[0] is d out / d loss_i, which the backward needs.
template <typename T>
void cross_entropy_reduce(const Exec& exec, T* out, double* scale, const T* logits,
                          const int64_t* target, const T* class_weights,
                          const cpu::ClassMapGeometry& g, int64_t ignore_index, bool mean,
                          void* workspace);

// Bytes of `workspace` that ohem_cross_entropy needs (a sorted copy of the keys, the per-pixel
// losses, CUB's sort scratch and the reduction partials).
template <typename T>
int64_t ohem_workspace_bytes(const Exec&, const cpu::ClassMapGeometry& g, T /*type*/);

// OHEM: key[i] = softmax probability of the target class (+inf at ignored pixels), sorted on the
// device (CUB radix sort); threshold[0] = max(sorted[min(min_kept, count − 1)], thresh) with
// count the labelled pixels (−inf when there are none, so nothing is kept); out[0] = mean of
// w_y·nll over the pixels with key < threshold (0 when none); scale[0] = 1 / kept (or 0).
// key (g.pixels()), threshold and scale are what the backward needs.
template <typename T>
void ohem_cross_entropy(const Exec& exec, T* out, T* key, T* threshold, double* scale,
                        const T* logits, const int64_t* target, const T* class_weights,
                        const cpu::ClassMapGeometry& g, int64_t ignore_index, int64_t min_kept,
                        T thresh, void* workspace, int64_t workspace_bytes);

// The backward's per-pixel scale, read on the device (kernels/cpu/loss_cross_entropy.h).
using cpu::CrossEntropyGradScale;

// grad[n,c,s] = dL/dloss_i · w_y · (softmax_c − [c = y]); 0 at ignored and dropped pixels.
template <typename T>
void cross_entropy_backward(const Exec& exec, T* grad, const T* logits, const int64_t* target,
                            const T* class_weights, const cpu::ClassMapGeometry& g,
                            int64_t ignore_index, const CrossEntropyGradScale<T>& scale);

}  // namespace rtseg::cuda
