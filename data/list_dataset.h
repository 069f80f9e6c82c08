// The generic dataset: a list file of `IMAGE LABEL` lines (paths relative to a root), a class
// table, and an optional label remapping. Labels are either single-channel PNGs of class ids
// (LabelFormat::Index) or colour PNGs mapped through the class colours (LabelFormat::Colour,
// unknown colours → ignore). CamVid (both versions) is this dataset with a fixed table.
//
// Files a user writes:
//   list file    `images/a.jpg labels/a.png` per line ('#' comments and blank lines skipped)
//   class file   `name R G B` per line, in class-id order (names may contain spaces)
//   remap file   `from to` per line (e.g. `11 255` to ignore a value, `1 0` to merge classes)
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace rtseg::data {

enum class LabelFormat { Index, Colour };

struct ListDatasetOptions {
  std::string root;       // list paths are relative to it
  std::string list_file;  // absolute, or relative to root
  DatasetInfo info;       // class names, palette (the colours for LabelFormat::Colour), ignore
  LabelFormat label_format = LabelFormat::Index;
  std::vector<std::pair<int, int>> remap;  // applied to index labels after decoding
  bool unmapped_to_ignore = false;         // with remap: values not listed become ignore
  bool require_labels = true;              // false: lines may hold only an image (inference)
};

class ListDataset : public Dataset {
 public:
  explicit ListDataset(ListDatasetOptions options);
  size_t size() const override { return entries_.size(); }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;
  const std::string& list_file() const { return list_path_; }

 private:
  ListDatasetOptions options_;
  std::string list_path_;
  std::vector<ListEntry> entries_;
  LabelRemap remap_;
};

// `name R G B` lines → class names and palette.
DatasetInfo read_class_file(const std::string& path, int ignore_index = 255);
// `from to` lines.
std::vector<std::pair<int, int>> read_remap_file(const std::string& path);

}  // namespace rtseg::data
