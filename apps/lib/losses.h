// Training losses by name (`train.loss`). A loss runs the net on a batch itself, so that nets
// with several heads (PIDNet's auxiliary and boundary heads, ICFRNet's complexity head) can add
// their own loss with register_loss without the trainer knowing their outputs. Built in:
//   ce    cross-entropy on the logits (upsampled to the label size when smaller), optional class
//         weights applied with probability train.class_weight_prob per iteration (CIFReNet: 0.99),
//         reduction train.ce_reduction: mean (PyTorch's Σ w·nll / Σ w) or all_pixels
//         (Σ w·nll / N·H·W, ignored pixels included in the count: CIFReNet's and PIDNet's code)
//   ohem  PIDNet's OHEM cross-entropy (train.ohem_thresh, train.ohem_keep, class weights)
//   pidnet, icfrnet  the multi-head objectives of nets/pidnet_loss.h and nets/ic_loss.h
//         (losses_pidnet.cpp)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "apps/lib/experiment.h"
#include "data/loader.h"
#include "layers/module.h"
#include "optim/checkpoint.h"

namespace rtseg::app {

struct LossTerms {
  Tensor total;                                       // 0-dim, differentiable, on the device
  std::vector<std::pair<std::string, Tensor>> terms;  // named parts, for the logs
};

struct LossSetup {
  TrainSettings train;
  int num_classes = 0;
  int ignore_index = 255;
  Device device;
};

class TrainingLoss {
 public:
  virtual ~TrainingLoss() = default;
  // Forward of `net` (in training mode) on the batch, which is already on the device.
  virtual LossTerms compute(Module& net, const data::Batch& batch) = 0;
  // Work on the host batch before it moves to the device (e.g. maps the CPU computes from it).
  virtual void prepare_host_batch(data::Batch& batch) const {}
  // Whether the batches need boundary (edge) maps.
  virtual bool needs_edges() const { return false; }
  // Generators the loss draws from: saved in checkpoints so that a resumed run draws the same.
  virtual NamedGenerators generators() { return {}; }
  // The training set as the loss needs it (e.g. with precomputed complexity maps attached).
  virtual std::shared_ptr<const data::Dataset> wrap_dataset(
      std::shared_ptr<const data::Dataset> base) {
    return base;
  }
};

using LossFactory = std::function<std::unique_ptr<TrainingLoss>(const LossSetup&)>;

void register_loss(const std::string& name, const std::string& description, LossFactory factory);
// The loss called `name`; an unknown name is an Error that lists the registered ones.
std::unique_ptr<TrainingLoss> make_loss(const std::string& name, const LossSetup& setup);
// (name, description) of every registered loss.
std::vector<std::pair<std::string, std::string>> registered_losses();

// train.class_weights as a C-vector on the setup's device (undefined when empty); a length
// other than the number of classes is an Error.
Tensor class_weight_tensor(const LossSetup& setup);

// The net's logits for the batch's images, bilinearly resized (align_corners true) to the label
// size when they differ: what single-output losses and the evaluator compare with labels.
Tensor logits_at_label_size(Module& net, const Tensor& images, int64_t height, int64_t width);

}  // namespace rtseg::app
