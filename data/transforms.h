// Training augmentation: random transforms drawing from an explicit rtseg::Generator, composed
// into a Pipeline, plus the recipes of the papers (docs/pidnet-s.md, "Data pipeline";
// docs/cifrenet.md, "Training recipe of the authors' code").
// Each random step draws its numbers in a fixed order, so one Generator state gives one result.
// The deterministic building blocks (resize, pad, crop, flip, rotate, colour, boundary) are in
// geometry.h, photometric.h and boundary.h.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "data/boundary.h"
#include "data/dataset.h"
#include "data/geometry.h"
#include "data/photometric.h"

namespace rtseg::data {

using Transform = std::function<void(Sample&, Generator&)>;

class Pipeline {
 public:
  Pipeline& add(std::string name, Transform step);
  void apply(Sample& sample, Generator& gen) const;
  bool empty() const { return steps_.empty(); }
  std::vector<std::string> names() const;

 private:
  std::vector<std::pair<std::string, Transform>> steps_;
};

// Edge ground truth from the current label (boundary_map); put it first, on the full-size label.
Transform add_boundary(int frame = 0);

// PIDNet's multi-scale: scale = min_scale + k/divisor with k uniform in {0..steps} (default
// 0.5 + k/10 = 0.5 … 2.1, computed as the authors' Python does); the long side becomes
// int(base_size·scale + 0.5) and the short side int(short·long/long_old + 0.5) (aspect kept).
Transform random_scale_steps(int base_size, int steps = 16, double divisor = 10.0,
                             double min_scale = 0.5);
// random_scale_steps followed by random_crop(CropMode::Pad) in one pass: the same draws and the
// same pixels, but only the crop window is ever resized (up to 4× less work at scale 2.1).
Transform random_scale_crop(int base_size, int crop_height, int crop_width, int steps = 16,
                            double divisor = 10.0, double min_scale = 0.5, Fill fill = {});
// CIFReNet's RandomSized: both sides × s, s ~ U(lo, hi), truncated to integers (int(s·w)).
Transform random_scale_uniform(double lo, double hi);
// A fixed resize (e.g. SegNet CamVid labels to 960×720, CIFReNet's eval resize).
Transform resize_to(int width, int height);

enum class CropMode {
  Pad,       // PIDNet: pad bottom/right (image 0, label 255, edge 0) up to the crop, then crop
  ResizeUp,  // CIFReNet: if either side is smaller than the crop, resize the sample to the crop
};
// Offsets are uniform over all valid positions, x drawn before y.
Transform random_crop(int height, int width, CropMode mode = CropMode::Pad, Fill fill = {});
Transform random_hflip(double p = 0.5);
// Angle uniform in [−max_degrees, max_degrees), counter-clockwise positive; label corners get
// `label_fill` (255 = ignore; CIFReNet's code effectively uses 0).
Transform random_rotate(double max_degrees, int label_fill = 255);
// CIFReNet's jitter, applied in this order: gamma ~ U(1, 1 + gamma), saturation ~
// U(1 − s, 1 + s), contrast ~ U(1 − c, 1 + c). A zero amount skips that step (and its draw).
Transform colour_jitter(double gamma, double saturation, double contrast);

// PIDNet/ICFRNet training: boundary (frame 6 for Cityscapes, 0 for CamVid), multi-scale with
// base_size (Cityscapes 2048, CamVid 960) and pad-crop crop_h × crop_w (fused, random_scale_crop),
// flip p = 0.5.
Pipeline pidnet_train_pipeline(int base_size, int crop_height, int crop_width, int boundary_frame,
                               bool with_boundary = true);
// CIFReNet training: flip, RandomSized U(0.5, 1.5), rotate ±3°, gamma 0.2, saturation 0.2,
// contrast 0.2, crop crop_h × crop_w resizing up when smaller.
Pipeline cifrenet_train_pipeline(int crop_height, int crop_width, int rotate_label_fill = 255);

}  // namespace rtseg::data
