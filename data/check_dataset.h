// Checking a dataset before training on it (the `check-dataset` command's engine): decode every
// sample and report counts, image sizes, the per-class pixel histogram, label values that are
// neither a class nor the ignore value, missing files, corrupt files and image/label size
// mismatches. By default the first bad sample throws (its error names the file); with
// skip_bad the problem is recorded as a warning and the check goes on, and the report lists the
// good samples (e.g. for a SubsetDataset that trains on those only). Labels that are all ignore
// are an error of the split; a high ignored share is a warning.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/data_error.h"
#include "data/dataset.h"

namespace rtseg::data {

struct CheckOptions {
  bool skip_bad = false;   // record bad samples and continue instead of throwing
  size_t max_samples = 0;  // 0: all
  int num_classes = 0;     // 0: the dataset's
  int threads = 1;         // samples decoded in parallel
};

struct SampleProblem {
  size_t index = 0;
  DataErrorKind kind = DataErrorKind::Corrupt;
  std::string message;  // names the file
};

struct DatasetReport {
  std::string dataset;
  size_t samples = 0;                                 // checked
  size_t good = 0;                                    // without any problem
  size_t unlabelled = 0;                              // samples without a label map
  std::map<std::pair<int, int>, size_t> image_sizes;  // (width, height) → count
  std::vector<std::string> class_names;
  int ignore_index = 255;
  std::vector<uint64_t> class_pixels;  // per class id
  uint64_t ignore_pixels = 0;
  std::map<int, uint64_t> out_of_range;  // value → pixels, values neither class nor ignore
  std::vector<SampleProblem> problems;   // in index order
  std::vector<size_t> good_indices;
  // Of the split as a whole: an error where its labels hold no class pixel at all (every pixel
  // ignore: a wrong label format or colour list), a warning where more than half are ignore.
  std::vector<std::string> split_errors, split_warnings;

  uint64_t labelled_pixels() const;  // class + ignore + out-of-range pixels
  size_t count(DataErrorKind kind) const;
  // Share of class c among the pixels with a class id (ignore and out-of-range excluded).
  double class_share(int c) const;
  std::string summary() const;  // a readable multi-line report (sizes, histogram, problems)
};

DatasetReport check_dataset(const Dataset& dataset, const CheckOptions& options = {});

}  // namespace rtseg::data
