// Ctrl-C during training: the first SIGINT (or SIGTERM) only sets a flag that the training loop
// checks between iterations, so it can write a checkpoint and exit cleanly; a second Ctrl-C
// falls back to the default action and ends the process at once.
#pragma once

namespace rtseg::app {

// Installs the handlers for its lifetime (restoring the previous ones) and clears the flag.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

bool interrupt_requested();
// What the handler does; also for tests.
void request_interrupt();
void clear_interrupt();

}  // namespace rtseg::app
