#include "data/helen.h"

#include <fstream>

#include "data/data_error.h"
#include "data/image_io.h"

namespace rtseg::data {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string map_path(const std::string& root, const std::string& id, int k) {
  return join_path(root, fmt::format("labels/{0}/{0}_lbl{1:02d}.png", id, k));
}

}  // namespace

DatasetInfo helen_info() {
  DatasetInfo info;
  info.name = "helen";
  info.class_names = {"background",  "face skin", "left eyebrow", "right eyebrow",
                      "left eye",    "right eye", "nose",         "upper lip",
                      "inner mouth", "lower lip", "hair"};
  info.palette = {{0, 0, 0},     {204, 0, 0},   {76, 153, 0},  {204, 204, 0},
                  {51, 51, 255}, {204, 0, 204}, {0, 255, 255}, {255, 204, 204},
                  {102, 51, 0},  {255, 0, 0},   {102, 204, 0}};
  info.ignore_index = 255;
  return info;
}

HelenDataset::HelenDataset(const std::string& root, const std::string& split) : root_(root) {
  info_ = helen_info();
  std::string file = split;
  if (split == "train") file = "exemplars.txt";
  if (split == "val") file = "tuning.txt";
  if (split == "test") file = "testing.txt";
  split_file_ = join_path(root, file);
  std::ifstream in(split_file_);
  if (!in)
    data_fail(DataErrorKind::MissingFile, "{}: cannot open the Helen split file", split_file_);
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (trim(text).empty()) continue;
    const size_t comma = text.find(',');
    const std::string id = comma == std::string::npos ? "" : trim(text.substr(comma + 1));
    if (id.empty() || id.find_first_of(" \t,") != std::string::npos) {
      data_fail(DataErrorKind::Syntax, "{}:{}: expected 'INDEX , IMAGEID', got '{}'", split_file_,
                line, trim(text));
    }
    ids_.push_back(id);
    lines_.push_back(line);
  }
  if (ids_.empty())
    data_fail(DataErrorKind::Syntax, "{}: the split file has no entries", split_file_);
}

std::string HelenDataset::describe(size_t index) const {
  RTSEG_CHECK(index < ids_.size(), "helen: index {} beyond the {} images", index, ids_.size());
  return fmt::format("{}:{}: {}", split_file_, lines_[index], ids_[index]);
}

Sample HelenDataset::get(size_t index) const {
  RTSEG_CHECK(index < ids_.size(), "helen: index {} beyond the {} images", index, ids_.size());
  const std::string& id = ids_[index];
  Sample s;
  s.name = id;
  const std::string image_path = join_path(root_, "images/" + id + ".jpg");
  s.image = read_image(image_path);
  // Running argmax: best holds the largest probability so far, label its map index.
  Map2D<uint8_t> best(s.image.width, s.image.height, 0);
  s.label = Label(s.image.width, s.image.height, 0);
  for (int k = 0; k < kNumMaps; ++k) {
    const std::string path = map_path(root_, id, k);
    const Label map = read_label(path);
    check_same_size(s.image, map, image_path, path);
    for (size_t i = 0; i < map.values.size(); ++i) {
      const int v = map.values[i];
      if (v > 255)
        data_fail(DataErrorKind::Format,
                  "{}: probability map value {} exceeds 255 (8-bit maps expected)", path, v);
      if (k > 0 && v > best.values[i]) {
        best.values[i] = uint8_t(v);
        s.label.values[i] = int16_t(k);
      } else if (k == 0) {
        best.values[i] = uint8_t(v);
      }
    }
  }
  return s;
}

}  // namespace rtseg::data
