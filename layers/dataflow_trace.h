// One traced forward of a net: which module produced each tensor and which modules read it, for
// the inference rewrites (BatchNorm folding, activation fusion). A module that passes its input
// through (a folded BatchNorm, a container) does not replace the tensor's first producer. The
// forward records its autograd graph, which sees every op — functional calls outside any module
// included — so `sole_consumer` can tell that a module's output feeds nothing but one op.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "layers/module.h"

namespace rtseg {

struct Dataflow {
  std::map<const TensorImpl*, const void*> producer;  // the first module that returned it
  std::map<const void*, const TensorImpl*> inputs;    // each module's input
  std::vector<Tensor> keep_alive;                     // addresses stay unique while tracing
  std::map<const void*, Module*> modules;
  std::map<const void*, std::string> paths;
  std::map<const void*, const autograd::Node*> output_node;  // grad_fn of each module's output
  std::map<const autograd::Node*, int> consumers;            // edges into each node

  // Whether the output of `producer` is read by exactly one op, the one that made the output of
  // `consumer` (e.g. the conv's output feeds only the activation module's op).
  bool sole_consumer(const Module* producer, const Module* consumer) const;

  // The module that produced the input of `m`, or null.
  Module* producer_of_input(const Module* m) const;
};

// Runs `net` once, without gradients, on zeros of `input_shape` (in its parameters' dtype and
// device) and records its dataflow.
Dataflow trace_dataflow(Module& net, const Shape& input_shape);

}  // namespace rtseg
