// Observation of a forward pass, for summaries (parameter and MAC counts, output shapes) and
// per-layer timing. Ops report their arithmetic cost and modules report entering and leaving
// their forward to the thread's observer, if one is installed; with none (the normal case) each
// report is one thread-local load and a branch.
#pragma once

#include <cstdint>

namespace rtseg {

class Tensor;

// What an op did, in the units the counting conventions need (docs/counts.md, "Counting
// conventions").
struct OpCost {
  enum class Kind { Conv, Linear, BatchNorm, PReLU, LeakyReLU, AvgPool, AdaptiveAvgPool };
  Kind kind;
  int64_t macs = 0;      // Conv/Linear: multiply-accumulates without bias
  int64_t elements = 0;  // output elements
  bool bias = false;     // Conv/Linear with bias
  int64_t window = 0;    // AdaptiveAvgPool: elements averaged per output
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  virtual void on_op(const OpCost& cost) = 0;
  // `owner` identifies the module (its address); `input` / `output` are its argument and result,
  // or null when the forward does not take or give a single tensor.
  virtual void on_enter(const void* owner, const Tensor* input) = 0;
  virtual void on_exit(const void* owner, const Tensor* output) = 0;
  // When true, expensive kernels (convolutions, GEMMs) may skip their arithmetic and leave their
  // outputs zero: shapes and costs are all a summary needs.
  virtual bool shapes_only() const { return false; }
};

ForwardObserver* forward_observer();

// Installs `observer` for the current thread for the guard's lifetime.
class ObserverGuard {
 public:
  explicit ObserverGuard(ForwardObserver* observer);
  ~ObserverGuard();
  ObserverGuard(const ObserverGuard&) = delete;
  ObserverGuard& operator=(const ObserverGuard&) = delete;

 private:
  ForwardObserver* previous_;
};

inline void report_cost(const OpCost& cost) {
  if (ForwardObserver* o = forward_observer()) o->on_op(cost);
}

inline bool shapes_only() {
  ForwardObserver* o = forward_observer();
  return o != nullptr && o->shapes_only();
}

}  // namespace rtseg
