#include "layers/module.h"

#include "core/profile.h"

namespace rtseg {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Replaces the contents of `t`'s TensorImpl with `src`'s data, so every handle sees the change.
void replace_data(const Tensor& t, const Tensor& src) {
  TensorImpl& impl = t.impl();
  impl.storage = src.impl().storage;
  impl.offset = src.impl().offset;
  impl.shape = src.impl().shape;
  impl.strides = src.impl().strides;
  impl.dtype = src.impl().dtype;
  impl.grad = nullptr;
}

}  // namespace

NamedTensors Module::named_outputs(const Tensor& x) { return {{"main", forward(x)}}; }

Tensor Module::forward_impl(const Tensor&) {
  fail("{}: has no single-input forward (it cannot be used inside a Sequential)", type_name());
}

Tensor Module::forward(const Tensor& x) {
  ForwardObserver* o = forward_observer();
  if (!o) return forward_impl(x);
  o->on_enter(this, &x);
  Tensor y = forward_impl(x);
  o->on_exit(this, &y);
  return y;
}

ModuleScope::ModuleScope(const Module* m) : module_(m) {
  if (ForwardObserver* o = forward_observer()) o->on_enter(module_, nullptr);
}

ModuleScope::~ModuleScope() {
  if (ForwardObserver* o = forward_observer()) o->on_exit(module_, output_);
}

void Module::check_new_name(const std::string& name) const {
  RTSEG_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: invalid member name '{}' (non-empty, no dots)", type_name(), name);
  for (const auto& [n, t] : parameters_)
    RTSEG_CHECK(n != name, "{}: '{}' registered twice", type_name(), name);
  for (const auto& [n, t] : buffers_)
    RTSEG_CHECK(n != name, "{}: '{}' registered twice", type_name(), name);
  for (const auto& [n, m] : children_)
    RTSEG_CHECK(n != name, "{}: '{}' registered twice", type_name(), name);
}

void Module::register_generator(const std::string& name, Generator* generator) {
  RTSEG_CHECK(generator != nullptr, "{}: generator '{}' is null", type_name(), name);
  for (const auto& [n, g] : generators_)
    RTSEG_CHECK(n != name, "{}: generator '{}' registered twice", type_name(), name);
  generators_.emplace_back(name, generator);
}

std::vector<std::pair<std::string, Generator*>> Module::named_generators() const {
  std::vector<std::pair<std::string, Generator*>> out;
  for (const auto& [path, module] : named_modules()) {
    for (const auto& [n, g] : module->generators_) out.emplace_back(n + ":" + path, g);
  }
  return out;
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  RTSEG_CHECK(t.defined() && t.is_leaf(), "{}: parameter '{}' must be a defined leaf tensor",
              type_name(), name);
  t.set_requires_grad(true);
  parameters_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  RTSEG_CHECK(t.defined(), "{}: buffer '{}' is undefined", type_name(), name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  RTSEG_CHECK(m != nullptr, "{}: child '{}' is null", type_name(), name);
  children_.emplace_back(name, std::move(m));
}

NamedTensors Module::named_parameters(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, module] : named_modules(prefix)) {
    for (const auto& [n, t] : module->parameters_) out.emplace_back(join(name, n), t);
  }
  return out;
}

NamedTensors Module::named_buffers(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, module] : named_modules(prefix)) {
    for (const auto& [n, t] : module->buffers_) out.emplace_back(join(name, n), t);
  }
  return out;
}

NamedTensors Module::state_dict(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, module] : named_modules(prefix)) {
    for (const auto& [n, t] : module->parameters_) out.emplace_back(join(name, n), t);
    for (const auto& [n, t] : module->buffers_) out.emplace_back(join(name, n), t);
  }
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_children() const {
  std::vector<std::pair<std::string, Module*>> out;
  for (const auto& [n, m] : children_) out.emplace_back(n, m.get());
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, Module*>> out{{prefix, const_cast<Module*>(this)}};
  for (const auto& [n, m] : children_) {
    for (auto& entry : m->named_modules(join(prefix, n))) out.push_back(entry);
  }
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::zero_grad() {
  for (const auto& [name, t] : named_parameters()) t.zero_grad();
}

void Module::train(bool on) {
  for (const auto& [name, m] : named_modules()) m->training_ = on;
}

void Module::for_each_tensor(const std::function<void(Tensor&)>& f) {
  for (const auto& [name, m] : named_modules()) {
    for (auto& [n, t] : m->parameters_) f(t);
    for (auto& [n, t] : m->buffers_) f(t);
  }
}

void Module::to(Device device) {
  for_each_tensor([&](Tensor& t) {
    if (t.device() != device) replace_data(t, t.to(device));
  });
}

void Module::to(DType dtype) {
  RTSEG_CHECK(is_floating(dtype), "{}.to: target dtype must be floating, got {}", type_name(),
              dtype_name(dtype));
  for_each_tensor([&](Tensor& t) {
    if (is_floating(t.dtype()) && t.dtype() != dtype) replace_data(t, t.to(dtype));
  });
}

}  // namespace rtseg
