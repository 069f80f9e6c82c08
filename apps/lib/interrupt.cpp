#include "apps/lib/interrupt.h"

#include <csignal>

namespace rtseg::app {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
struct sigaction g_previous_int, g_previous_term;

void on_signal(int) {
  g_interrupted = 1;
  // Async-signal-safe: the next Ctrl-C gets the default action (terminate).
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  clear_interrupt();
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;  // reads in progress continue instead of failing with EINTR
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool interrupt_requested() { return g_interrupted != 0; }
void request_interrupt() { g_interrupted = 1; }
void clear_interrupt() { g_interrupted = 0; }

}  // namespace rtseg::app
