#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/ops.h"

namespace rtseg::autograd {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { g_grad_enabled = previous_; }

Node::Node(std::string name, std::vector<Edge> inputs, std::vector<Shape> input_shapes,
           std::vector<OutputMeta> outputs, BackwardFn fn)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      input_shapes_(std::move(input_shapes)),
      outputs_(std::move(outputs)),
      fn_(std::move(fn)) {
  for (const Edge& e : inputs_) needs_grad_.push_back(e.node != nullptr || e.leaf != nullptr);
}

TensorList Node::apply(const TensorList& grad_outputs) {
  RTSEG_CHECK(fn_ != nullptr,
              "backward: the graph through '{}' was already released by an earlier backward "
              "(pass retain_graph=true to back-propagate twice)",
              name_);
  TensorList grads = fn_(grad_outputs, needs_grad_);
  RTSEG_CHECK(grads.size() == inputs_.size(),
              "backward of '{}': returned {} gradients for {} inputs", name_, grads.size(),
              inputs_.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!needs_grad_[i]) continue;
    RTSEG_CHECK(grads[i].defined(), "backward of '{}': no gradient for input {}", name_, i);
    RTSEG_CHECK(grads[i].shape() == input_shapes_[i],
                "backward of '{}': gradient {} for input {} of shape {}", name_,
                grads[i].describe(), i, shape_str(input_shapes_[i]));
  }
  return grads;
}

bool should_record(const TensorList& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void record(const char* name, const TensorList& inputs, const TensorList& outputs, BackwardFn fn) {
  if (!should_record(inputs)) return;
  std::vector<Edge> edges;
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) {
        e.node = t.grad_fn();
        e.output_nr = t.impl().output_nr;
      } else {
        e.leaf = t.impl_ptr();
      }
    }
    edges.push_back(e);
    shapes.push_back(t.defined() ? t.shape() : Shape{});
  }
  std::vector<OutputMeta> metas;
  for (const Tensor& t : outputs) metas.push_back({t.shape(), t.dtype(), t.device()});
  auto node = std::make_shared<Node>(name, std::move(edges), std::move(shapes), std::move(metas),
                                     std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    RTSEG_CHECK(outputs[i].is_leaf() && !outputs[i].impl().requires_grad,
                "{}: internal error, output {} already has autograd state", name, i);
    outputs[i].impl().grad_fn = node;
    outputs[i].impl().output_nr = static_cast<int>(i);
  }
}

namespace {

void accumulate_into_leaf(TensorImpl& leaf, const Tensor& g) {
  // Out of place: a gradient tensor may be shared by several inputs (add's backward), so it is
  // never modified after it is handed out.
  leaf.grad = leaf.grad ? add(Tensor(leaf.grad), g).impl_ptr() : g.detach().impl_ptr();
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& seed_in, bool retain_graph) {
  RTSEG_CHECK(root.requires_grad(),
              "backward: tensor {} does not require grad and has no recorded history",
              root.describe());
  Tensor seed = seed_in;
  if (!seed.defined()) {
    RTSEG_CHECK(root.numel() == 1,
                "backward: implicit seed needs a one-element tensor, got {}; pass a gradient",
                root.describe());
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  RTSEG_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype(),
              "backward: seed {} does not match tensor {}", seed.describe(), root.describe());
  NoGradGuard no_grad;  // gradients are computed without recording a graph of their own
  if (!root.grad_fn()) {
    accumulate_into_leaf(root.impl(), seed);
    return;
  }
  // Count, for every reachable node, how many edges point at it.
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{root.grad_fn().get()};
  std::unordered_set<Node*> seen{root.grad_fn().get()};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->inputs()) {
      if (!e.node) continue;
      pending[e.node.get()]++;
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  std::unordered_map<Node*, TensorList> buffers;
  // Keep the nodes alive while running even if the user drops their tensors meanwhile.
  std::vector<std::shared_ptr<Node>> ready{root.grad_fn()};
  buffers[root.grad_fn().get()].resize(root.grad_fn()->num_outputs());
  buffers[root.grad_fn().get()][root.impl().output_nr] = seed;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.back();
    ready.pop_back();
    TensorList grads_out = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    for (size_t i = 0; i < grads_out.size(); ++i) {
      if (!grads_out[i].defined()) {
        const OutputMeta& m = node->output(i);
        grads_out[i] = Tensor::zeros(m.shape, m.dtype, m.device);
      }
    }
    TensorList grads_in = node->apply(grads_out);
    if (!retain_graph) node->release();
    for (size_t i = 0; i < grads_in.size(); ++i) {
      const Edge& e = node->inputs()[i];
      if (e.leaf) {
        accumulate_into_leaf(*e.leaf, grads_in[i]);
      } else if (e.node) {
        TensorList& buf = buffers[e.node.get()];
        if (buf.empty()) buf.resize(e.node->num_outputs());
        Tensor& slot = buf[e.output_nr];
        slot = slot.defined() ? add(slot, grads_in[i]) : grads_in[i];
        if (--pending[e.node.get()] == 0) ready.push_back(e.node);
      }
    }
  }
}

}  // namespace rtseg::autograd
