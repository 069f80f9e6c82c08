#include "data/camvid.h"

namespace rtseg::data {

namespace {

std::string list_for(const std::string& split) {
  if (split == "train" || split == "val" || split == "test" || split == "trainval")
    return split + ".txt";
  return split;
}

}  // namespace

DatasetInfo camvid_segnet_info() {
  DatasetInfo info;
  info.name = "camvid";
  info.class_names = {"sky",  "building", "pole", "road",       "sidewalk", "tree",
                      "sign", "fence",    "car",  "pedestrian", "bicyclist"};
  // The colours commonly used to draw the SegNet labels (docs/datasets.md, "SegNet version").
  info.palette = {{128, 128, 128}, {128, 0, 0},   {192, 192, 128}, {128, 64, 128},
                  {60, 40, 222},   {128, 128, 0}, {192, 128, 128}, {64, 64, 128},
                  {64, 0, 128},    {64, 64, 0},   {0, 128, 192}};
  info.ignore_index = 255;
  return info;
}

DatasetInfo camvid_colour_info() {
  DatasetInfo info;
  info.name = "camvid960";
  info.class_names = {"bicyclist", "building", "car",  "pole", "fence", "pedestrian",
                      "road",      "sidewalk", "sign", "sky",  "tree"};
  info.palette = {{0, 128, 192},   {128, 0, 0},     {64, 0, 128},   {192, 192, 128},
                  {64, 64, 128},   {64, 64, 0},     {128, 64, 128}, {0, 0, 192},
                  {192, 128, 128}, {128, 128, 128}, {128, 128, 0}};
  info.ignore_index = 255;
  return info;
}

std::shared_ptr<ListDataset> camvid_segnet(const std::string& root, const std::string& split) {
  ListDatasetOptions o;
  o.root = root;
  o.list_file = list_for(split);
  o.info = camvid_segnet_info();
  o.label_format = LabelFormat::Index;
  o.remap = {
      {11, 255}};  // unlabelled → ignore; other values pass through (check_dataset flags them)
  return std::make_shared<ListDataset>(o);
}

std::shared_ptr<ListDataset> camvid_colour(const std::string& root, const std::string& split) {
  ListDatasetOptions o;
  o.root = root;
  o.list_file = list_for(split);
  o.info = camvid_colour_info();
  o.label_format = LabelFormat::Colour;
  return std::make_shared<ListDataset>(o);
}

}  // namespace rtseg::data
