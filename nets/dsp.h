// CIFReNet's Dense Semantic Pyramid block (docs/cifrenet.md, "Dense Semantic Pyramid"), children
// named as the authors' checkpoints: `down` (grouped 1×1 reduce + BN-PReLU), `pool` (global pool →
// 1×1 conv with bias → BN, broadcast back), `branch_1..4` (dilated depthwise → BN-PReLU → 1×1 → BN)
// and `module_act` (PReLU over the output channels). Output = PReLU(shuffle(concat) + input).
#pragma once

#include <array>
#include <memory>

#include "core/random.h"
#include "layers/activation.h"
#include "layers/sequential.h"

namespace rtseg {

class DenseSemanticPyramid : public Module {
 public:
  // reduced = round(ratio·out) channels per path; 4 paths + pool make 5·reduced = out.
  DenseSemanticPyramid(int64_t in, int64_t out, const std::array<int64_t, 4>& dilations,
                       int64_t groups, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "DenseSemanticPyramid"; }

  std::shared_ptr<Sequential> down, pool;
  std::array<std::shared_ptr<Sequential>, 4> branches;
  std::shared_ptr<PReLU> module_act;

 private:
  int64_t groups_;
  bool residual_;
};

}  // namespace rtseg
