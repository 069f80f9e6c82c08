#include "kernels/cpu_fast/isa.h"

namespace rtseg::cpu_fast {

const char* isa_name() {
#if defined(__GNUC__) && defined(__x86_64__)
  // The same order and features as GCC's resolver for the clones (x86-64-v4 ⊃ v3).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2, FMA)";
  return "x86-64 (baseline)";
#else
  return "generic";
#endif
}

}  // namespace rtseg::cpu_fast
