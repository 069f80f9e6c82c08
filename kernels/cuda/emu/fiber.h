// Fibers for the emulated GPU threads: Boost.Context's fcontext switch (tens of nanoseconds; a
// ucontext switch costs about ten times more) on pooled mmap'ed stacks with a guard page, told
// to AddressSanitizer at every switch so that it follows the stack in use and never reports the
// switches themselves.
//
// One OS thread runs a scheduler (its own stack) and the fibers it starts; a fiber runs until it
// yields or its function returns. A fiber that is never resumed again (its block failed) is simply
// dropped: its stack goes back to the pool and is unpoisoned before reuse.
#pragma once

#include <cstddef>

namespace rtseg::emu {

struct FiberStack {
  char* base = nullptr;  // lowest usable byte (a guard page lies below)
  size_t size = 0;
};

class Fiber {
 public:
  using Function = void (*)(void* arg);

  Fiber() = default;
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Starts fn(arg) on a pooled stack and runs it until it yields or returns.
  void start(Function fn, void* arg);
  // Runs the fiber from where it yielded until it yields again or returns.
  void resume();
  // Drops the fiber (finished or not) and returns its stack to the pool; it can be started again.
  void reset();
  bool started() const { return stack_.base != nullptr; }
  bool finished() const { return finished_; }

  // From inside a running fiber: back to the scheduler that resumed it.
  static void yield();

 private:
  friend struct FiberEntry;
  void switch_in();

  void* context_ = nullptr;  // fcontext_t where the fiber is suspended
  FiberStack stack_;
  Function fn_ = nullptr;
  void* arg_ = nullptr;
  void* asan_fake_stack_ = nullptr;
  bool finished_ = false;
};

}  // namespace rtseg::emu
