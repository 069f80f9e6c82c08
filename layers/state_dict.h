// Loading weights into a module by name. Keys are matched after stripping the wrappers PyTorch
// training code adds (`module.` from DataParallel, `model.` from PIDNet's FullModel, `_orig_mod.`
// from torch.compile). Everything is checked before anything is written, so a refused load
// leaves the model exactly as it was.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/module.h"

namespace rtseg {

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the module, not in the source
  std::vector<std::string> unexpected;  // in the source, not in the module
  std::vector<std::string>
      mismatched;  // both, with different shapes: "key: model [..] vs file [..]"
  // num_batches_tracked is optional (checkpoints older than PyTorch 0.4.1 lack it): such keys go
  // here instead of `missing`.
  std::vector<std::string> absent_optional;

  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;  // counts and the offending keys, for logs and errors
};

// Strips the known wrapper prefixes (repeatedly, so `module.model.x` becomes `x`).
std::string strip_wrapper_prefixes(const std::string& key);

// NaN and Inf elements of a floating tensor (0 for integer tensors).
int64_t count_non_finite(const Tensor& t);

// Copies `source` tensors into the module's parameters and buffers (converting dtype and moving
// to the tensor's device). A tensor to be loaded holding NaN or Inf refuses the load (strict or
// not) with an Error naming it: such weights would predict nothing and report numbers. strict: any
// missing, unexpected or mismatched key refuses the whole load with an Error carrying the report.
// Non-strict: loads what matches and reports the rest.
LoadReport load_state_dict(Module& module, const std::map<std::string, Tensor>& source,
                           bool strict);

// Reads a safetensors file and loads it as above.
LoadReport load_safetensors(Module& module, const std::string& path, bool strict);

}  // namespace rtseg
