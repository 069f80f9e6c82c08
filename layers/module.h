// Module: a node of the model tree that owns named parameters, buffers and child modules. The
// dotted path of every tensor is its PyTorch state_dict key (children of a Sequential are named
// by index), so checkpoints and PyTorch weights move across by name. Modules compose ops; they do
// no arithmetic of their own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace rtseg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // In state_dict order (PyTorch's): this module's parameters, then its buffers, then each child's
  // entries recursively, in registration order.
  NamedTensors named_parameters(const std::string& prefix = "") const;
  NamedTensors named_buffers(const std::string& prefix = "") const;
  NamedTensors state_dict(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  // The random generators modules registered (their state belongs in a training checkpoint),
  // named "<generator name>:<module path>", e.g. "dropout:head.drop".
  std::vector<std::pair<std::string, Generator*>> named_generators() const;
  std::vector<std::pair<std::string, Module*>> named_children() const;
  // Every module of the tree, this one first, with its dotted path ("" for this one).
  std::vector<std::pair<std::string, Module*>> named_modules(const std::string& prefix = "") const;

  int64_t num_parameters() const;
  void zero_grad();

  // train() switches batch statistics and dropout on; eval() off. Applies to the whole subtree.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves (or converts) every parameter and buffer in place: handles held elsewhere (by an
  // optimizer, say) see the new storage. Gradients are dropped.
  void to(Device device);
  void to(DType dtype);  // floating tensors only; integer buffers keep their type

  // Short type name for summaries ("Conv2d", "BatchNorm2d", ...).
  virtual std::string type_name() const = 0;

  // The single-input forward that Sequential chains: reports entry and exit to the forward
  // observer (core/profile.h) around forward_impl, which subclasses implement. Modules with
  // other signatures keep the default forward_impl, which says so, and open a ModuleScope.
  Tensor forward(const Tensor& x);
  virtual Tensor forward_impl(const Tensor& x);
  // Every output of the net's graph by name, for objectives that need more than the logits
  // ("main", and e.g. PIDNet's "aux_p" and "boundary", ICFRNet's "ic_logits"). Default: "main",
  // forward(x).
  virtual NamedTensors named_outputs(const Tensor& x);

 protected:
  // Registers a parameter (requires_grad on) / buffer / child under `name` and returns it.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  // A generator this module owns (it must outlive nothing but the module itself).
  void register_generator(const std::string& name, Generator* generator);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name) const;
  void for_each_tensor(const std::function<void(Tensor&)>& f);

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, Generator*>> generators_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Reports a module's forward to the observer for its lifetime (for forwards with other
// signatures than forward(x)); set_output names the result.
class ModuleScope {
 public:
  explicit ModuleScope(const Module* m);
  ~ModuleScope();
  ModuleScope(const ModuleScope&) = delete;
  ModuleScope& operator=(const ModuleScope&) = delete;
  void set_output(const Tensor& t) { output_ = &t; }

 private:
  const Module* module_;
  const Tensor* output_ = nullptr;
};

}  // namespace rtseg
