// From the `data:` section of a config to the data pipeline's objects: datasets by name, the
// class table (without touching any file, for predict's palette), augmentation and evaluation
// pipelines, and the input normalisation.
#pragma once

#include <memory>
#include <string>

#include "apps/lib/experiment.h"
#include "data/dataset.h"
#include "data/photometric.h"
#include "data/transforms.h"

namespace rtseg::app {

// Class names, palette and ignore value of the configured dataset. Reads only the class file of
// list datasets; the synthetic set uses Cityscapes' 19 train-id classes.
data::DatasetInfo dataset_info(const DataSettings& d);

// The samples of `split` ("train", "val", a split name or a list file, as the dataset takes it).
// The synthetic set makes data.synthetic_train_samples scenes for "train" and
// data.synthetic_val_samples (another seed) for anything else.
std::shared_ptr<const data::Dataset> open_dataset(const DataSettings& d, const std::string& split,
                                                  uint64_t seed);

// Training augmentation per data.augment; `edges` adds boundary maps (losses that need them).
data::Pipeline train_pipeline(const DataSettings& d, bool edges);
// Evaluation: a resize to data.eval_size when set (labels nearest), nothing else.
data::Pipeline eval_pipeline(const DataSettings& d);
data::Normalization normalization(const DataSettings& d);

}  // namespace rtseg::app
