#include "data/cityscapes.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "data/data_error.h"
#include "data/image_io.h"

namespace fs = std::filesystem;

namespace rtseg::data {

namespace {

constexpr const char* kImageSuffix = "_leftImg8bit.png";
constexpr const char* kLabelSuffix = "_gtFine_labelIds.png";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// id (0..33) → train id, built once from the table.
const std::array<int16_t, 256>& id_table() {
  static const auto table = [] {
    std::array<int16_t, 256> t;
    t.fill(255);
    for (const CityscapesClass& c : cityscapes_classes()) {
      if (c.id >= 0) t[size_t(c.id)] = int16_t(c.train_id);
    }
    return t;
  }();
  return table;
}

}  // namespace

const std::vector<CityscapesClass>& cityscapes_classes() {
  static const std::vector<CityscapesClass> classes = {
      {"unlabeled", 0, 255, {0, 0, 0}},
      {"ego vehicle", 1, 255, {0, 0, 0}},
      {"rectification border", 2, 255, {0, 0, 0}},
      {"out of roi", 3, 255, {0, 0, 0}},
      {"static", 4, 255, {0, 0, 0}},
      {"dynamic", 5, 255, {111, 74, 0}},
      {"ground", 6, 255, {81, 0, 81}},
      {"road", 7, 0, {128, 64, 128}},
      {"sidewalk", 8, 1, {244, 35, 232}},
      {"parking", 9, 255, {250, 170, 160}},
      {"rail track", 10, 255, {230, 150, 140}},
      {"building", 11, 2, {70, 70, 70}},
      {"wall", 12, 3, {102, 102, 156}},
      {"fence", 13, 4, {190, 153, 153}},
      {"guard rail", 14, 255, {180, 165, 180}},
      {"bridge", 15, 255, {150, 100, 100}},
      {"tunnel", 16, 255, {150, 120, 90}},
      {"pole", 17, 5, {153, 153, 153}},
      {"polegroup", 18, 255, {153, 153, 153}},
      {"traffic light", 19, 6, {250, 170, 30}},
      {"traffic sign", 20, 7, {220, 220, 0}},
      {"vegetation", 21, 8, {107, 142, 35}},
      {"terrain", 22, 9, {152, 251, 152}},
      {"sky", 23, 10, {70, 130, 180}},
      {"person", 24, 11, {220, 20, 60}},
      {"rider", 25, 12, {255, 0, 0}},
      {"car", 26, 13, {0, 0, 142}},
      {"truck", 27, 14, {0, 0, 70}},
      {"bus", 28, 15, {0, 60, 100}},
      {"caravan", 29, 255, {0, 0, 90}},
      {"trailer", 30, 255, {0, 0, 110}},
      {"train", 31, 16, {0, 80, 100}},
      {"motorcycle", 32, 17, {0, 0, 230}},
      {"bicycle", 33, 18, {119, 11, 32}},
      {"license plate", -1, -1, {0, 0, 142}},
  };
  return classes;
}

int cityscapes_id_to_train_id(int id) { return id >= 0 && id < 256 ? id_table()[size_t(id)] : 255; }

int cityscapes_train_id_to_id(int train_id) {
  if (train_id == 255) return 0;
  for (const CityscapesClass& c : cityscapes_classes()) {
    if (c.train_id == train_id && c.id >= 0) return c.id;
  }
  fail("cityscapes: train id {} is not one of 0..18 or 255", train_id);
}

void cityscapes_ids_to_train_ids(Label& label) {
  const auto& table = id_table();
  for (int16_t& v : label.values) v = (v >= 0 && v < 256) ? table[size_t(v)] : int16_t(255);
}

void cityscapes_train_ids_to_ids(Label& label) {
  std::array<int16_t, 256> table;
  for (int t = 0; t < 256; ++t)
    table[size_t(t)] = int16_t(t < 19 || t == 255 ? cityscapes_train_id_to_id(t) : -1);
  for (int16_t& v : label.values) {
    const int16_t id = (v >= 0 && v < 256) ? table[size_t(v)] : int16_t(-1);
    RTSEG_CHECK(id >= 0, "cityscapes: train id {} is not one of 0..18 or 255", v);
    v = id;
  }
}

DatasetInfo cityscapes_info() {
  DatasetInfo info;
  info.name = "cityscapes";
  info.class_names.resize(19);
  info.palette.resize(19);
  for (const CityscapesClass& c : cityscapes_classes()) {
    if (c.train_id >= 0 && c.train_id < 19) {
      info.class_names[size_t(c.train_id)] = c.name;
      info.palette[size_t(c.train_id)] = c.colour;
    }
  }
  info.ignore_index = 255;
  return info;
}

CityscapesDataset::CityscapesDataset(const std::string& root, const std::string& split,
                                     bool with_labels)
    : root_(root), split_(split), with_labels_(with_labels) {
  info_ = cityscapes_info();
  const fs::path dir = fs::path(root) / "leftImg8bit" / split;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    data_fail(DataErrorKind::MissingFile,
              "{}: no such directory (expected Cityscapes' leftImg8bit/{}/<city>/)", dir.string(),
              split);
  }
  for (const fs::directory_entry& city : fs::directory_iterator(dir)) {
    if (!city.is_directory()) continue;
    for (const fs::directory_entry& f : fs::directory_iterator(city.path())) {
      if (f.is_regular_file() && ends_with(f.path().filename().string(), kImageSuffix)) {
        images_.push_back(f.path().string());
      }
    }
  }
  // Directory order is arbitrary; sorting makes indices (and so shuffles) reproducible.
  std::sort(images_.begin(), images_.end());
  if (images_.empty()) {
    data_fail(DataErrorKind::MissingFile, "{}: no *{} files in its city folders", dir.string(),
              kImageSuffix);
  }
}

std::string CityscapesDataset::label_path(size_t index) const {
  RTSEG_CHECK(index < images_.size(), "cityscapes: index {} beyond the {} images", index,
              images_.size());
  const fs::path image(images_[index]);
  std::string name = image.filename().string();
  name = name.substr(0, name.size() - std::string(kImageSuffix).size()) + kLabelSuffix;
  const std::string city = image.parent_path().filename().string();
  return (fs::path(root_) / "gtFine" / split_ / city / name).string();
}

std::string CityscapesDataset::describe(size_t index) const {
  return with_labels_ ? images_.at(index) + " " + label_path(index) : images_.at(index);
}

Sample CityscapesDataset::get(size_t index) const {
  RTSEG_CHECK(index < images_.size(), "cityscapes: index {} beyond the {} images", index,
              images_.size());
  Sample s;
  const std::string& image_path = images_[index];
  std::string name = fs::path(image_path).filename().string();
  s.name = name.substr(0, name.size() - std::string(kImageSuffix).size());
  s.image = read_image(image_path);
  if (with_labels_) {
    const std::string lp = label_path(index);
    s.label = read_label(lp);
    check_same_size(s.image, s.label, image_path, lp);
    cityscapes_ids_to_train_ids(s.label);
  }
  return s;
}

}  // namespace rtseg::data
