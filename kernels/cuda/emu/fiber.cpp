#include "kernels/cuda/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernels/cuda/emu/sanitizer.h"

#ifdef RTSEG_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define RTSEG_NO_ASAN __attribute__((no_sanitize_address))
#else
#define RTSEG_NO_ASAN
#endif

namespace rtseg::emu {

namespace fc = boost::context::detail;

namespace {

// Kernels need little stack, but sanitizer redzones and exception unwinding add to it; pages
// are only committed when touched, so a generous size costs address space only.
constexpr size_t kStackSize = size_t(256) << 10;
constexpr size_t kMaxPooledStacks = 2048;

struct StackPool {
  std::vector<FiberStack> free;
  ~StackPool() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    for (const FiberStack& s : free) munmap(s.base - page, s.size + page);
  }
};

thread_local StackPool t_pool;
thread_local fc::fcontext_t t_scheduler = nullptr;  // where a yielding fiber returns to
thread_local Fiber* t_running = nullptr;
// Bounds of the scheduler's stack, for the sanitizer's switch annotations.
thread_local const void* t_scheduler_bottom = nullptr;
thread_local size_t t_scheduler_size = 0;

FiberStack acquire_stack() {
  if (!t_pool.free.empty()) {
    FiberStack s = t_pool.free.back();
    t_pool.free.pop_back();
    return s;
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, kStackSize + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "rtseg CUDA emulator: cannot map a %zu KiB fiber stack\n",
                 kStackSize >> 10);
    std::abort();
  }
  mprotect(p, page, PROT_NONE);  // overflow faults instead of corrupting a neighbour
  return {static_cast<char*>(p) + page, kStackSize};
}

void release_stack(const FiberStack& s, bool dirty) {
#ifdef RTSEG_EMU_ASAN
  // A fiber dropped mid-call leaves its frames' redzones poisoned.
  if (dirty) __asan_unpoison_memory_region(s.base, s.size);
#else
  (void)dirty;
#endif
  if (t_pool.free.size() < kMaxPooledStacks) {
    t_pool.free.push_back(s);
  } else {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    munmap(s.base - page, s.size + page);
  }
}

inline void start_switch(void** fake_stack, const void* bottom, size_t size) {
#ifdef RTSEG_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}

inline void finish_switch(void* fake_stack, const void** bottom_old, size_t* size_old) {
#ifdef RTSEG_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
  (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

}  // namespace

Fiber::~Fiber() { reset(); }

void Fiber::reset() {
  if (started()) release_stack(stack_, !finished_);
  stack_ = FiberStack{};
  context_ = nullptr;
  asan_fake_stack_ = nullptr;
  finished_ = false;
}

// No redzones in this frame: it never returns, so they would stay poisoned on the reused stack.
struct FiberEntry {
  RTSEG_NO_ASAN static void run(fc::transfer_t t) {
    t_scheduler = t.fctx;
    finish_switch(nullptr, &t_scheduler_bottom, &t_scheduler_size);
    Fiber* self = static_cast<Fiber*>(t.data);
    self->fn_(self->arg_);
    self->finished_ = true;
    start_switch(nullptr, t_scheduler_bottom, t_scheduler_size);  // nullptr: this fiber ends
    fc::jump_fcontext(t_scheduler, nullptr);
    std::abort();  // a finished fiber is never resumed
  }
};

void Fiber::switch_in() {
  void* fake = nullptr;
  start_switch(&fake, stack_.base, stack_.size);
  Fiber* previous = t_running;
  t_running = this;
  fc::transfer_t t = fc::jump_fcontext(context_, this);
  finish_switch(fake, nullptr, nullptr);
  t_running = previous;
  if (!finished_) context_ = t.fctx;
}

void Fiber::start(Function fn, void* arg) {
  reset();
  fn_ = fn;
  arg_ = arg;
  stack_ = acquire_stack();
  context_ = fc::make_fcontext(stack_.base + stack_.size, stack_.size, &FiberEntry::run);
  switch_in();
}

void Fiber::resume() { switch_in(); }

void Fiber::yield() {
  Fiber* self = t_running;
  start_switch(&self->asan_fake_stack_, t_scheduler_bottom, t_scheduler_size);
  fc::transfer_t t = fc::jump_fcontext(t_scheduler, nullptr);
  t_scheduler = t.fctx;
  finish_switch(self->asan_fake_stack_, &t_scheduler_bottom, &t_scheduler_size);
}

}  // namespace rtseg::emu
