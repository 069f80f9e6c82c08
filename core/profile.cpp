#include "core/profile.h"

namespace rtseg {

namespace {
thread_local ForwardObserver* g_observer = nullptr;
}

ForwardObserver* forward_observer() { return g_observer; }

ObserverGuard::ObserverGuard(ForwardObserver* observer) : previous_(g_observer) {
  g_observer = observer;
}
ObserverGuard::~ObserverGuard() { g_observer = previous_; }

}  // namespace rtseg
