// Model summary: parameters and multiply-accumulates per module under the three counting
// conventions of docs/counts.md, "Counting conventions" (conv-only, thop-2021, thop-2022), and each
// module's output shape, from one eval-mode forward at the given input size. Convolutions run
// shapes-only (no arithmetic), so a summary at 1024×2048 takes a moment even on a CPU.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct MacCounts {
  double conv = 0;      // convolutions and linear layers only
  double thop2021 = 0;  // + conv bias, BN 2/elem, PReLU and LeakyReLU 1/elem, pooling
  double thop2022 = 0;  // no conv bias, BN 4/elem, PReLU 1/elem, LeakyReLU 0, pooling
  MacCounts& operator+=(const MacCounts& o) {
    conv += o.conv;
    thop2021 += o.thop2021;
    thop2022 += o.thop2022;
    return *this;
  }
};

struct ModuleSummary {
  std::string path;  // "" for the whole net
  std::string type;
  int depth = 0;  // number of dots + 1 (0 for the whole net)
  Shape output;   // empty when the module produced no single tensor
  int64_t params = 0;
  MacCounts macs;  // the module and everything inside it
};

struct ModelSummary {
  Shape input;
  std::vector<ModuleSummary> modules;  // whole net first, then every submodule in tree order
  const ModuleSummary& total() const { return modules.front(); }
};

// Runs `forward` (by default net.forward) once on zeros of `input` shape in eval mode without
// autograd, and restores the net's training flag afterwards.
ModelSummary summarize(Module& net, const Shape& input);

// A fixed-width table of the modules down to `max_depth` (0: whole net only).
std::string format_summary(const ModelSummary& s, int max_depth);
// The whole summary as JSON.
std::string summary_json(const ModelSummary& s);

}  // namespace rtseg
