// The context of the fast CPU backend's entry points: a cpu::Exec whose ranges run on the thread
// pool. An op passes it for float32 on the fast backend (core/kernel_dispatch.h); its
// unqualified kernel call then reaches the fast overload where kernels/cpu_fast declares one for
// this context, and through the base class the reference kernel, run in parallel, elsewhere.
#pragma once

#include "kernels/cpu/exec.h"

namespace rtseg::cpu_fast {

struct Exec : cpu::Exec {};

}  // namespace rtseg::cpu_fast
