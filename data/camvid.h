// CamVid, both circulating versions (docs/datasets.md, "CamVid"):
//  - SegNet version (480×360, what ../shared/data/camvid holds): gray PNG labels whose value is
//    the class in the order sky, building, pole, road, sidewalk, tree, sign/symbol, fence, car,
//    pedestrian, bicyclist; value 11 (unlabelled) becomes the ignore value 255.
//  - Full-resolution version (960×720, PIDNet & co.): colour `*_L.png` labels reduced to 11
//    classes in PIDNet's alphabetical order; every other colour is ignored.
// Both read a list file of `IMAGE LABEL` lines relative to `root`.
#pragma once

#include <memory>
#include <string>

#include "data/list_dataset.h"

namespace rtseg::data {

DatasetInfo camvid_segnet_info();
DatasetInfo camvid_colour_info();

// split: "train", "val" or "test" (the list file <split>.txt under root), or a list file path.
std::shared_ptr<ListDataset> camvid_segnet(const std::string& root, const std::string& split);
std::shared_ptr<ListDataset> camvid_colour(const std::string& root, const std::string& split);

}  // namespace rtseg::data
