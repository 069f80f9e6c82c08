// Helen face parsing (Smith et al. CVPR 2013, docs/datasets.md, "Helen"), layout of
// SmithCVPR2013_dataset_resized/: images/<id>.jpg, labels/<id>/<id>_lbl00.png … _lbl10.png (11 gray
// probability maps, 0..255), and the split files exemplars.txt (train), tuning.txt (val),
// testing.txt (test) with `index , imageid` lines. The hard label is the argmax over the 11 maps;
// ties go to the lower class (as numpy's argmax), so an all-zero pixel is background.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace rtseg::data {

DatasetInfo helen_info();  // background, face skin, eyebrows, eyes, nose, lips, inner mouth, hair

class HelenDataset : public Dataset {
 public:
  static constexpr int kNumMaps = 11;
  // split: train, val, test, or the name of a split file under root.
  HelenDataset(const std::string& root, const std::string& split);
  size_t size() const override { return ids_.size(); }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;

 private:
  std::string root_, split_file_;
  std::vector<std::string> ids_;
  std::vector<int> lines_;
};

}  // namespace rtseg::data
