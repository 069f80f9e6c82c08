// Evaluation of a net on a dataset: eval mode, no autograd, batches from the loader in dataset
// order, logits at the label size, per-pixel argmax, one confusion matrix over the split.
// Optional flip testing averages the logits of the image and of its mirror (mirrored back).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "apps/lib/metrics.h"
#include "data/dataset.h"
#include "data/photometric.h"
#include "data/transforms.h"
#include "layers/module.h"

namespace rtseg::app {

struct EvalOptions {
  bool flip = false;
  size_t max_samples = 0;  // 0: all
  int batch_size = 1;
  int workers = 2;
  data::Normalization normalization = data::Normalization::ImageNet;
  Device device;
  // When set: each sample's prediction at the size the dataset gave it (before the pipeline's
  // resize), from bilinearly resized logits — e.g. for Cityscapes submission files.
  std::function<void(const std::string& name, const data::Label& prediction)> on_full_resolution;
  // After each batch: (images done, images in total).
  std::function<void(size_t, size_t)> on_progress;
};

struct EvalResult {
  ConfusionMatrix matrix;
  size_t images = 0, labelled = 0;  // images seen; those with a label map
  double seconds = 0;
};

// A split whose labels hold not a single class pixel (all ignore) is an Error: its metrics
// would be NaN and mean nothing.
EvalResult evaluate(Module& net, std::shared_ptr<const data::Dataset> dataset,
                    const data::Pipeline& pipeline, const EvalOptions& options);

// Logits of an eval-mode forward without autograd, at the input's size (bilinear,
// align_corners true, when the net gives them smaller), with optional flip averaging.
Tensor predict_logits(Module& net, const Tensor& images, bool flip);
// x mirrored along its last dimension (any device; a copy).
Tensor flip_width(const Tensor& x);

// A Label from one N×H×W int64 tensor's image n.
data::Label to_label(const Tensor& classes, int64_t n);

}  // namespace rtseg::app
