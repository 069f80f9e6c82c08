// Run-time choice of the instruction set: a function marked RTSEG_CPU_CLONES is compiled for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and baseline x86-64, and the dynamic loader binds
// the best one the CPU has (GCC's target_clones, an ifunc). What is shipped never assumes more
// than baseline x86-64; `isa_name()` says which one runs.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define RTSEG_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RTSEG_CPU_CLONES
#endif

namespace rtseg::cpu_fast {

// "x86-64-v4 (AVX-512)", "x86-64-v3 (AVX2, FMA)" or "x86-64 (baseline)": the clone that runs.
const char* isa_name();

}  // namespace rtseg::cpu_fast
