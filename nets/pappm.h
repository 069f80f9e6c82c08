// PIDNet's Parallel Aggregation Pyramid Pooling Module (docs/pidnet-s.md, "PAPPM"), children
// named as the authors' checkpoints: scale1..scale3 {0: avg pool, 1: BN, 2: ReLU, 3: 1×1 conv},
// scale4 {0: global pool, 1: BN, 2: ReLU, 3: 1×1 conv}, scale0 {0: BN, 1: ReLU, 2: 1×1 conv},
// scale_process {0: BN, 1: ReLU, 2: 3×3 conv, groups 4}, compression and shortcut
// {0: BN, 1: ReLU, 2: 1×1 conv}. All convs are bias-free.
#pragma once

#include <memory>

#include "core/ops/pool.h"
#include "core/random.h"
#include "layers/sequential.h"

namespace rtseg::pidnet {

// torch.nn.AvgPool2d with a square kernel, zero padding counted in the average and floor-mode
// output sizes. Reports thop's cost (one operation per output element) to summaries.
class AvgPool2d : public Module {
 public:
  AvgPool2d(int64_t kernel, int64_t stride, int64_t padding);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }

 private:
  Pool2dParams params_;
};

class PAPPM : public Module {
 public:
  // in: input channels (512 in S); branch: width of each pyramid branch (96); out: output (128).
  PAPPM(int64_t in, int64_t branch, int64_t out, Generator& gen);
  Tensor forward_impl(const Tensor& x) override;
  std::string type_name() const override { return "PAPPM"; }

  std::shared_ptr<Sequential> scale1, scale2, scale3, scale4, scale0, scale_process, compression,
      shortcut;
};

}  // namespace rtseg::pidnet
