#include "apps/lib/datasets.h"

#include "data/camvid.h"
#include "data/cityscapes.h"
#include "data/helen.h"
#include "data/list_dataset.h"
#include "data/synthetic.h"

namespace rtseg::app {

namespace {

data::ListDatasetOptions list_options(const DataSettings& d, const std::string& split) {
  data::ListDatasetOptions o;
  o.root = d.root;
  o.list_file = split;
  o.info = dataset_info(d);
  o.label_format =
      d.label_format == "colour" ? data::LabelFormat::Colour : data::LabelFormat::Index;
  if (!d.remap_file.empty()) o.remap = data::read_remap_file(d.remap_file);
  return o;
}

}  // namespace

data::DatasetInfo dataset_info(const DataSettings& d) {
  if (d.dataset == "camvid") return data::camvid_segnet_info();
  if (d.dataset == "camvid960") return data::camvid_colour_info();
  if (d.dataset == "helen") return data::helen_info();
  if (d.dataset == "list") {
    RTSEG_CHECK(!d.class_file.empty(),
                "config: list datasets need data.class_file (`name R G B` per class)");
    return data::read_class_file(data::join_path(d.root, d.class_file), int(d.ignore_index));
  }
  data::DatasetInfo info = data::cityscapes_info();  // cityscapes and synthetic
  if (d.dataset == "synthetic") info.name = "synthetic";
  return info;
}

std::shared_ptr<const data::Dataset> open_dataset(const DataSettings& d, const std::string& split,
                                                  uint64_t seed) {
  if (d.dataset == "synthetic") {
    data::SyntheticOptions o;
    const bool train = split == "train";
    o.size = size_t(train ? d.synthetic_train_samples : d.synthetic_val_samples);
    RTSEG_CHECK(o.size > 0, "config: data.synthetic_{}_samples must be > 0",
                train ? "train" : "val");
    o.height = int(d.synthetic_size[0]);
    o.width = int(d.synthetic_size[1]);
    // Validation scenes come from another seed than the training scenes.
    o.seed = train ? seed : seed ^ 0x5eed5eed5eedULL;
    return std::make_shared<data::SyntheticStreetDataset>(o);
  }
  RTSEG_CHECK(!d.root.empty() || d.dataset == "list",
              "config: data.root is empty (where is the {} dataset?)", d.dataset);
  if (d.dataset == "camvid") return data::camvid_segnet(d.root, split);
  if (d.dataset == "camvid960") return data::camvid_colour(d.root, split);
  if (d.dataset == "cityscapes") {
    // Test labels are withheld (the server scores test): read its images only.
    return std::make_shared<data::CityscapesDataset>(d.root, split, split != "test");
  }
  if (d.dataset == "helen") return std::make_shared<data::HelenDataset>(d.root, split);
  return std::make_shared<data::ListDataset>(list_options(d, split));
}

data::Pipeline train_pipeline(const DataSettings& d, bool edges) {
  data::Pipeline p;
  const bool crop = d.crop.size() == 2;
  const int crop_h = crop ? int(d.crop[0]) : 0, crop_w = crop ? int(d.crop[1]) : 0;
  if (d.augment == "pidnet") {
    // Edge maps are made on the full-size label, so the optional resize comes first.
    if (!d.train_resize.empty())
      p.add("resize", data::resize_to(int(d.train_resize[1]), int(d.train_resize[0])));
    data::Pipeline recipe =
        data::pidnet_train_pipeline(int(d.base_size), crop_h, crop_w, int(d.boundary_frame), edges);
    // A Pipeline does not hand out its steps: the recipe runs as one step of this one.
    p.add("pidnet", [recipe](data::Sample& s, Generator& g) { recipe.apply(s, g); });
    return p;
  }
  if (!d.train_resize.empty())
    p.add("resize", data::resize_to(int(d.train_resize[1]), int(d.train_resize[0])));
  if (edges) p.add("boundary", data::add_boundary(int(d.boundary_frame)));
  if (d.augment == "cifrenet") {
    data::Pipeline recipe = data::cifrenet_train_pipeline(crop_h, crop_w, int(d.rotate_label_fill));
    p.add("cifrenet", [recipe](data::Sample& s, Generator& g) { recipe.apply(s, g); });
    return p;
  }
  if (d.augment == "flip") p.add("hflip", data::random_hflip(0.5));
  if (crop) p.add("crop", data::random_crop(crop_h, crop_w, data::CropMode::Pad));
  return p;
}

data::Pipeline eval_pipeline(const DataSettings& d) {
  data::Pipeline p;
  if (d.eval_size.size() == 2)
    p.add("resize", data::resize_to(int(d.eval_size[1]), int(d.eval_size[0])));
  return p;
}

data::Normalization normalization(const DataSettings& d) {
  if (d.normalization == "cifrenet_bgr") return data::Normalization::CifrenetBGR;
  if (d.normalization == "unit") return data::Normalization::Unit;
  return data::Normalization::ImageNet;
}

}  // namespace rtseg::app
