// Reverse-mode autograd. Each recorded op leaves one Node holding its backward function, which
// captures exactly the tensors it needs. run_backward walks the graph in dependency order,
// accumulates gradients into leaves, and releases each node's captures after it runs, so saved
// activations are freed as soon as the backward pass is past them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rtseg::autograd {

using TensorList = std::vector<Tensor>;
// Given the gradient of every output (zeros where an output received none) and which inputs
// need a gradient, returns one gradient per input (undefined where not needed).
using BackwardFn =
    std::function<TensorList(const TensorList& grad_outputs, const std::vector<bool>& needs_grad)>;

class Node;

// Where an input's gradient goes: the node that produced it, or the leaf that owns it.
struct Edge {
  std::shared_ptr<Node> node;
  int output_nr = 0;
  std::shared_ptr<TensorImpl> leaf;
};

struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

class Node {
 public:
  Node(std::string name, std::vector<Edge> inputs, std::vector<Shape> input_shapes,
       std::vector<OutputMeta> outputs, BackwardFn fn);
  const std::string& name() const { return name_; }
  const std::vector<Edge>& inputs() const { return inputs_; }
  size_t num_outputs() const { return outputs_.size(); }
  bool released() const { return !fn_; }

  // Runs the backward function; checks every returned gradient against the input it is for.
  TensorList apply(const TensorList& grad_outputs);
  void release() { fn_ = nullptr; }
  const OutputMeta& output(size_t i) const { return outputs_[i]; }

 private:
  std::string name_;
  std::vector<Edge> inputs_;
  std::vector<Shape> input_shapes_;
  std::vector<bool> needs_grad_;
  std::vector<OutputMeta> outputs_;
  BackwardFn fn_;
};

// Gradient recording is on by default; NoGradGuard turns it off for its scope (per thread).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Turns recording back on for its scope (a traced forward inside a caller's NoGradGuard).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// True when recording is on and some input requires a gradient: ops call this to decide
// whether to keep what their backward needs.
bool should_record(const TensorList& inputs);

// Attaches a node to `outputs` (which must be fresh results of the op) when should_record.
// Captures in `fn` must not include the outputs themselves with history (capture
// output.detach() instead), or the node would keep itself alive.
void record(const char* name, const TensorList& inputs, const TensorList& outputs, BackwardFn fn);

// What a backward keeps of a tensor: detached (no history, so a node never holds itself or its
// inputs' graphs through a capture) and undefined unless `needed`, so that a node saves only what
// the gradients it can be asked for read. Capture the result, never the tensor itself.
inline Tensor save_for_backward(const Tensor& t, bool needed = true) {
  return needed ? t.detach() : Tensor();
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph);

}  // namespace rtseg::autograd
