// MobileNetV2 pieces as CIFReNet's backbone builds them (docs/cifrenet.md, "MobileNetV2 backbone"):
// the inverted residual block keeps its 1×1 expansion conv even when t = 1, and dilated stages
// apply their dilation to every block, the first included.
#pragma once

#include <memory>

#include "core/random.h"
#include "layers/sequential.h"

namespace rtseg {

// conv = [0] 1×1 cin→t·cin, [1] BN, [2] ReLU6, [3] 3×3 depthwise (stride, dilation, padding =
// dilation), [4] BN, [5] ReLU6, [6] 1×1 →cout, [7] BN. Residual iff stride 1 and cin = cout.
class InvertedResidual : public Module {
 public:
  InvertedResidual(int64_t cin, int64_t cout, int64_t stride, int64_t expansion, int64_t dilation,
                   Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "InvertedResidual"; }
  bool has_residual() const { return residual_; }
  std::shared_ptr<Sequential> conv;

 private:
  bool residual_;
};

// `count` blocks cin→cout; the first has `stride`, all have `dilation` (children "0", "1", ...).
std::shared_ptr<Sequential> inverted_residual_stage(int64_t cin, int64_t cout, int64_t count,
                                                    int64_t stride, int64_t expansion,
                                                    int64_t dilation, Generator& gen);

}  // namespace rtseg
