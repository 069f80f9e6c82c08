// Normalisation and regularisation.
#pragma once

#include "core/random.h"
#include "core/tensor.h"

namespace rtseg {

// Batch normalisation per channel (dim 1) of an N×C×H×W or N×C input (any dims after C are
// treated alike, as PyTorch), PyTorch semantics. Training needs more than one value per channel.
// training: normalise with the batch mean and biased batch variance, and (when running stats are
//   defined) update running ← (1 − momentum)·running + momentum·batch, storing the *unbiased*
//   variance (n/(n−1)) in running_var. running stats are updated in place without autograd.
// eval: normalise with running_mean / running_var.
// weight (γ) and bias (β) are C-vectors or undefined (then 1 and 0).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);

// Inverted dropout: in training, zeroes each element with probability p (drawn from `gen`) and
// scales the survivors by 1/(1−p); in eval (or p = 0) returns x.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace rtseg
