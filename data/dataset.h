// Datasets: an indexable collection of samples (image + label map + name) with the class table
// (names, palette, ignore value) the rest of rtseg needs. get() is const and thread-safe, so the
// loader's workers decode in parallel. Helpers shared by the concrete datasets live here too:
// list files, label remapping, colour → class conversion.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/image.h"
#include "data/png_codec.h"

namespace rtseg::data {

struct Sample {
  Image image;          // RGB, 8-bit
  Label label;          // class ids, ignore value for unlabelled pixels; empty when unlabelled
  Label edge;           // boundary map {0, 1} once a boundary transform made it; else empty
  FloatMap complexity;  // optional per-pixel map (e.g. IC9600 complexity); else empty
  std::string name;     // e.g. the file stem; names prediction files and error messages
};

struct DatasetInfo {
  std::string name;
  std::vector<std::string> class_names;
  std::vector<png::Rgb> palette;  // one colour per class (visualisation, colour labels)
  int ignore_index = 255;
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Decodes sample `index` (< size()). Thread-safe. Throws DataError naming the files.
  virtual Sample get(size_t index) const = 0;
  // The files (or recipe) sample `index` comes from, for reports; cheap, no decoding.
  virtual std::string describe(size_t index) const;

  const DatasetInfo& info() const { return info_; }
  const std::vector<std::string>& class_names() const { return info_.class_names; }
  const std::vector<png::Rgb>& palette() const { return info_.palette; }
  int ignore_index() const { return info_.ignore_index; }
  int num_classes() const { return info_.num_classes(); }

 protected:
  DatasetInfo info_;
};

// A view of some samples of another dataset (e.g. the good ones after check_dataset).
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices);
  size_t size() const override { return indices_.size(); }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<size_t> indices_;
};

// ---- helpers for the concrete datasets

// "root/relative", or `relative` itself when it is absolute or root is empty.
std::string join_path(const std::string& root, const std::string& relative);
// File name without directory and extension.
std::string file_stem(const std::string& path);

// Whitespace-separated fields of the lines of a text file, skipping blank lines and lines
// starting with '#'; each with its 1-based line number (for errors "file:line: ...").
struct TextLine {
  int line = 0;
  std::vector<std::string> fields;
};
std::vector<TextLine> read_text_lines(const std::string& path);

// Lines `IMAGE [LABEL]` of a list file. With require_label every line needs both fields.
struct ListEntry {
  std::string image, label;
  int line = 0;
};
std::vector<ListEntry> read_list_file(const std::string& path, bool require_label = true);

// A value → value table over 0..32767 applied in place; values without an entry either stay
// as they are or become `fallback` (e.g. ignore: Cityscapes ids that are not evaluated).
class LabelRemap {
 public:
  LabelRemap() = default;
  LabelRemap(const std::vector<std::pair<int, int>>& pairs, bool unmapped_to_fallback,
             int fallback);
  bool empty() const { return table_.empty(); }
  void apply(Label& label) const;
  int map(int value) const;

 private:
  std::vector<int16_t> table_;
};

// Image and label must have the same size; otherwise a SizeMismatch DataError naming both.
void check_same_size(const Image& image, const Label& label, const std::string& image_path,
                     const std::string& label_path);

// Colour label → class ids: pixels whose colour is colours[k] get k, any other colour `ignore`.
// `source` names the file in errors (e.g. a gray PNG where colours are expected).
Label colours_to_classes(const Image& rgb, const std::vector<png::Rgb>& colours, int ignore,
                         const std::string& source);
// Class ids → colours (ignore and unknown values → `other`), for visualising labels/predictions.
Image classes_to_colours(const Label& label, const std::vector<png::Rgb>& palette,
                         png::Rgb other = {0, 0, 0});

}  // namespace rtseg::data
