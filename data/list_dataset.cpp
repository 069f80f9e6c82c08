#include "data/list_dataset.h"

#include <cstdlib>

#include "data/data_error.h"
#include "data/image_io.h"

namespace rtseg::data {

namespace {

// Parses a whole-field integer, or fails naming file and line.
int parse_int(const std::string& text, const std::string& path, int line, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < -32768 || v > 32767) {
    data_fail(DataErrorKind::Syntax, "{}:{}: {} '{}' is not an integer in -32768..32767", path,
              line, what, text);
  }
  return int(v);
}

}  // namespace

ListDataset::ListDataset(ListDatasetOptions options) : options_(std::move(options)) {
  info_ = options_.info;
  if (info_.name.empty()) info_.name = "list";
  list_path_ = join_path(options_.root, options_.list_file);
  entries_ = read_list_file(list_path_, options_.require_labels);
  if (options_.label_format == LabelFormat::Colour) {
    RTSEG_CHECK(!info_.palette.empty(), "{}: colour labels need the class colours (a palette)",
                list_path_);
  }
  if (!options_.remap.empty() || options_.unmapped_to_ignore) {
    remap_ = LabelRemap(options_.remap, options_.unmapped_to_ignore, info_.ignore_index);
  }
}

std::string ListDataset::describe(size_t index) const {
  RTSEG_CHECK(index < entries_.size(), "{}: index {} beyond the {} entries", list_path_, index,
              entries_.size());
  const ListEntry& e = entries_[index];
  return fmt::format("{}:{}: {} {}", list_path_, e.line, e.image, e.label);
}

Sample ListDataset::get(size_t index) const {
  RTSEG_CHECK(index < entries_.size(), "{}: index {} beyond the {} entries", list_path_, index,
              entries_.size());
  const ListEntry& e = entries_[index];
  const std::string image_path = join_path(options_.root, e.image);
  Sample s;
  s.name = file_stem(e.image);
  try {
    s.image = read_image(image_path);
    if (!e.label.empty()) {
      const std::string label_path = join_path(options_.root, e.label);
      if (options_.label_format == LabelFormat::Colour) {
        s.label = colours_to_classes(read_image(label_path), info_.palette, info_.ignore_index,
                                     label_path);
      } else {
        s.label = read_label(label_path);
        remap_.apply(s.label);
      }
      check_same_size(s.image, s.label, image_path, label_path);
    }
  } catch (const DataError& err) {
    // Say which list line the broken file comes from: that is where the user fixes it.
    throw DataError(err.kind(),
                    fmt::format("{} (listed at {}:{})", err.what(), list_path_, e.line));
  }
  return s;
}

DatasetInfo read_class_file(const std::string& path, int ignore_index) {
  DatasetInfo info;
  info.name = file_stem(path);
  info.ignore_index = ignore_index;
  for (const TextLine& line : read_text_lines(path)) {
    const size_t n = line.fields.size();
    if (n < 4) {
      data_fail(DataErrorKind::Syntax, "{}:{}: expected 'NAME R G B', got {} field{}", path,
                line.line, n, n == 1 ? "" : "s");
    }
    std::string name = line.fields[0];
    for (size_t i = 1; i + 3 < n; ++i) name += " " + line.fields[i];
    png::Rgb colour{};
    for (int c = 0; c < 3; ++c) {
      const int v = parse_int(line.fields[n - 3 + c], path, line.line, "colour value");
      if (v < 0 || v > 255)
        data_fail(DataErrorKind::Syntax, "{}:{}: colour value {} is not in 0..255", path, line.line,
                  v);
      colour[c] = uint8_t(v);
    }
    info.class_names.push_back(name);
    info.palette.push_back(colour);
  }
  if (info.class_names.empty())
    data_fail(DataErrorKind::Syntax, "{}: the class file lists no classes", path);
  if (ignore_index >= 0 && ignore_index < info.num_classes()) {
    data_fail(DataErrorKind::Syntax, "{}: the ignore value {} is one of the {} class ids", path,
              ignore_index, info.num_classes());
  }
  return info;
}

std::vector<std::pair<int, int>> read_remap_file(const std::string& path) {
  std::vector<std::pair<int, int>> pairs;
  for (const TextLine& line : read_text_lines(path)) {
    if (line.fields.size() != 2) {
      data_fail(DataErrorKind::Syntax, "{}:{}: expected 'FROM TO', got {} fields", path, line.line,
                line.fields.size());
    }
    const int from = parse_int(line.fields[0], path, line.line, "value");
    const int to = parse_int(line.fields[1], path, line.line, "value");
    if (from < 0)
      data_fail(DataErrorKind::Syntax, "{}:{}: label values are never negative ({})", path,
                line.line, from);
    pairs.emplace_back(from, to);
  }
  return pairs;
}

}  // namespace rtseg::data
