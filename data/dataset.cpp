#include "data/dataset.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "data/data_error.h"

namespace rtseg::data {

std::string Dataset::describe(size_t index) const {
  return fmt::format("{} sample {}", info_.name, index);
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  RTSEG_CHECK(base_ != nullptr, "SubsetDataset: no base dataset");
  for (size_t i : indices_) {
    RTSEG_CHECK(i < base_->size(), "SubsetDataset: index {} beyond the {} samples of {}", i,
                base_->size(), base_->info().name);
  }
  info_ = base_->info();
}

Sample SubsetDataset::get(size_t index) const {
  RTSEG_CHECK(index < indices_.size(), "{}: index {} beyond the {} samples of the subset",
              info_.name, index, indices_.size());
  return base_->get(indices_[index]);
}

std::string SubsetDataset::describe(size_t index) const {
  RTSEG_CHECK(index < indices_.size(), "{}: index {} beyond the {} samples of the subset",
              info_.name, index, indices_.size());
  return base_->describe(indices_[index]);
}

std::string join_path(const std::string& root, const std::string& relative) {
  if (root.empty() || (!relative.empty() && relative[0] == '/')) return relative;
  return (std::filesystem::path(root) / relative).string();
}

std::string file_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

std::vector<TextLine> read_text_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) data_fail(DataErrorKind::MissingFile, "{}: cannot open", path);
  std::vector<TextLine> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the first path.
    if (number == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    std::istringstream fields(text);  // splits on any whitespace, so CRLF files work too
    TextLine line;
    line.line = number;
    std::string field;
    while (fields >> field) line.fields.push_back(field);
    if (line.fields.empty() || line.fields[0][0] == '#') continue;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<ListEntry> read_list_file(const std::string& path, bool require_label) {
  std::vector<ListEntry> entries;
  for (const TextLine& line : read_text_lines(path)) {
    const size_t n = line.fields.size();
    if (n > 2 || (require_label && n != 2)) {
      data_fail(DataErrorKind::Syntax,
                "{}:{}: expected 'IMAGE LABEL' (two paths without spaces), got {} field{}", path,
                line.line, n, n == 1 ? "" : "s");
    }
    entries.push_back({line.fields[0], n == 2 ? line.fields[1] : std::string(), line.line});
  }
  if (entries.empty()) data_fail(DataErrorKind::Syntax, "{}: the list file has no entries", path);
  return entries;
}

LabelRemap::LabelRemap(const std::vector<std::pair<int, int>>& pairs, bool unmapped_to_fallback,
                       int fallback)
    : table_(32768) {
  for (size_t v = 0; v < table_.size(); ++v)
    table_[v] = unmapped_to_fallback ? int16_t(fallback) : int16_t(v);
  for (const auto& [from, to] : pairs) {
    RTSEG_CHECK(from >= 0 && from < 32768 && to >= -32768 && to < 32768,
                "label remap: pair {} -> {} is outside the int16 label range", from, to);
    table_[static_cast<size_t>(from)] = int16_t(to);
  }
}

int LabelRemap::map(int value) const {
  if (table_.empty() || value < 0 || value >= int(table_.size())) return value;
  return table_[static_cast<size_t>(value)];
}

void LabelRemap::apply(Label& label) const {
  if (table_.empty()) return;
  for (int16_t& v : label.values) {
    if (v >= 0) v = table_[static_cast<size_t>(v)];
  }
}

void check_same_size(const Image& image, const Label& label, const std::string& image_path,
                     const std::string& label_path) {
  if (image.width != label.width || image.height != label.height) {
    data_fail(DataErrorKind::SizeMismatch, "{}: label is {}x{} but its image {} is {}x{}",
              label_path, label.width, label.height, image_path, image.width, image.height);
  }
}

Label colours_to_classes(const Image& rgb, const std::vector<png::Rgb>& colours, int ignore,
                         const std::string& source) {
  if (rgb.channels != 3) {
    data_fail(DataErrorKind::Format, "{}: a colour-coded label needs 3 channels, got {}", source,
              rgb.channels);
  }
  auto key = [](uint8_t r, uint8_t g, uint8_t b) {
    return (uint32_t(r) << 16) | (uint32_t(g) << 8) | b;
  };
  std::unordered_map<uint32_t, int16_t> lookup;
  for (size_t k = colours.size(); k-- > 0;)
    lookup[key(colours[k][0], colours[k][1], colours[k][2])] = int16_t(k);
  Label label(rgb.width, rgb.height);
  // Label maps are large regions of one colour: remembering the last colour skips most lookups.
  uint32_t last_key = 0xFFFFFFFFu;
  int16_t last_value = 0;
  const uint8_t* p = rgb.pixels.data();
  for (int16_t& v : label.values) {
    const uint32_t k = key(p[0], p[1], p[2]);
    p += 3;
    if (k != last_key) {
      const auto it = lookup.find(k);
      last_key = k;
      last_value = it == lookup.end() ? int16_t(ignore) : it->second;
    }
    v = last_value;
  }
  return label;
}

Image classes_to_colours(const Label& label, const std::vector<png::Rgb>& palette, png::Rgb other) {
  Image out(label.width, label.height, 3);
  uint8_t* p = out.pixels.data();
  for (int16_t v : label.values) {
    const png::Rgb& c = (v >= 0 && static_cast<size_t>(v) < palette.size())
                            ? palette[static_cast<size_t>(v)]
                            : other;
    p[0] = c[0];
    p[1] = c[1];
    p[2] = c[2];
    p += 3;
  }
  return out;
}

}  // namespace rtseg::data
