// Which kernels ran: with RTSEG_EMU_COVERAGE=FILE the emulator appends, when the process exits,
// a line "# program NAME" and then one line "KERNEL_NAME COUNT" per kernel launched (names
// without template arguments or namespaces, as `__global__` declares them), so a test can compare
// the kernels a suite launched with those the sources define.
#pragma once

namespace rtseg::emu {

// Makes sure the process reports itself at exit even if it launches nothing.
void start_coverage();

// Counts one launch of `kernel` (a launch expression such as "reduce::partials_kernel<K, Op>").
void count_launch(const char* kernel);

}  // namespace rtseg::emu
