// Cityscapes fine annotations (docs/datasets.md, "Cityscapes"): images
// leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png and labels
// gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png. The loader maps the 34 label ids
// to the 19 train ids itself (*_labelTrainIds.png is not shipped); every other id → 255.
// For the benchmark server, predictions go back from train ids to regular ids.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace rtseg::data {

struct CityscapesClass {
  const char* name;
  int id;
  int train_id;  // 255 = ignored in training and evaluation; license plate has id -1
  png::Rgb colour;
};
const std::vector<CityscapesClass>& cityscapes_classes();  // the 35 rows of the official table

int cityscapes_id_to_train_id(int id);        // 255 for ids that are not evaluated / unknown
int cityscapes_train_id_to_id(int train_id);  // 0..18 → id; 255 → 0 (unlabeled)
// In place: label ids → train ids, and train ids → ids (for submission PNGs).
void cityscapes_ids_to_train_ids(Label& label);
void cityscapes_train_ids_to_ids(Label& label);

DatasetInfo cityscapes_info();  // 19 train-id classes with their colours, ignore 255

class CityscapesDataset : public Dataset {
 public:
  // split: train, val or test. with_labels=false reads images only (test labels are withheld).
  CityscapesDataset(const std::string& root, const std::string& split, bool with_labels = true);
  size_t size() const override { return images_.size(); }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;
  // gtFine path that belongs to an image path (whether or not it exists).
  std::string label_path(size_t index) const;

 private:
  std::string root_, split_;
  bool with_labels_;
  std::vector<std::string> images_;  // sorted, absolute or root-joined
};

}  // namespace rtseg::data
