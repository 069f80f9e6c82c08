#include "layers/dataflow_trace.h"

#include <set>

#include "core/profile.h"

namespace rtseg {

namespace {

class DataflowTracer : public ForwardObserver {
 public:
  explicit DataflowTracer(Dataflow& flow) : flow_(flow) {}
  void on_op(const OpCost&) override {}
  void on_enter(const void* owner, const Tensor* input) override {
    if (input && input->defined()) flow_.keep_alive.push_back(*input);
    flow_.inputs[owner] = input && input->defined() ? input->impl_ptr().get() : nullptr;
  }
  void on_exit(const void* owner, const Tensor* output) override {
    if (output && output->defined()) {
      flow_.producer.emplace(output->impl_ptr().get(), owner);  // keeps the first
      flow_.output_node.emplace(owner, output->grad_fn().get());
      flow_.keep_alive.push_back(*output);
    }
  }

 private:
  Dataflow& flow_;
};

}  // namespace

Module* Dataflow::producer_of_input(const Module* m) const {
  const auto in = inputs.find(m);
  if (in == inputs.end() || in->second == nullptr) return nullptr;
  const auto prod = producer.find(in->second);
  if (prod == producer.end()) return nullptr;
  const auto mod = modules.find(prod->second);
  return mod == modules.end() ? nullptr : mod->second;
}

bool Dataflow::sole_consumer(const Module* producer, const Module* consumer) const {
  const auto made = output_node.find(producer), read = output_node.find(consumer);
  if (made == output_node.end() || read == output_node.end() || !made->second || !read->second)
    return false;
  const auto n = consumers.find(made->second);
  if (n == consumers.end() || n->second != 1) return false;
  for (const autograd::Edge& e : read->second->inputs()) {
    if (e.node.get() == made->second) return true;
  }
  return false;
}

Dataflow trace_dataflow(Module& net, const Shape& input_shape) {
  Dataflow flow;
  {
    DataflowTracer tracer(flow);
    ObserverGuard guard(&tracer);
    autograd::EnableGradGuard record;  // the graph is the trace, whatever the caller's mode
    const std::vector<Tensor> params = net.parameters();
    Tensor x = Tensor::zeros(input_shape, params.empty() ? DType::F32 : params[0].dtype(),
                             params.empty() ? Device::cpu() : params[0].device());
    x.set_requires_grad(true);  // every op records its node, whatever the parameters want
    flow.keep_alive.push_back(net.forward(x));
  }
  // Every edge of the graph, counted once per reading op.
  std::vector<const autograd::Node*> stack;
  std::set<const autograd::Node*> seen;
  for (const Tensor& t : flow.keep_alive) {
    if (t.grad_fn() && seen.insert(t.grad_fn().get()).second) stack.push_back(t.grad_fn().get());
  }
  while (!stack.empty()) {
    const autograd::Node* node = stack.back();
    stack.pop_back();
    for (const autograd::Edge& e : node->inputs()) {
      if (!e.node) continue;
      ++flow.consumers[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  for (const auto& [path, m] : net.named_modules()) {
    flow.modules[m] = m;
    flow.paths[m] = path;
  }
  return flow;
}

}  // namespace rtseg
