#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace rtseg::data {

namespace {

// PIDNet's size rule: long side int(base·scale + 0.5), aspect kept.
void scaled_size(int w, int h, int base_size, double scale, int& nw, int& nh) {
  const int long_side = int(base_size * scale + 0.5);
  if (h > w) {
    nh = long_side;
    nw = int(double(w) * long_side / h + 0.5);
  } else {
    nw = long_side;
    nh = int(double(h) * long_side / w + 0.5);
  }
  nw = std::max(nw, 1);
  nh = std::max(nh, 1);
}

}  // namespace

Pipeline& Pipeline::add(std::string name, Transform step) {
  RTSEG_CHECK(static_cast<bool>(step), "Pipeline: step '{}' is empty", name);
  steps_.emplace_back(std::move(name), std::move(step));
  return *this;
}

void Pipeline::apply(Sample& sample, Generator& gen) const {
  for (const auto& [name, step] : steps_) step(sample, gen);
}

std::vector<std::string> Pipeline::names() const {
  std::vector<std::string> out;
  for (const auto& step : steps_) out.push_back(step.first);
  return out;
}

Transform add_boundary(int frame) {
  RTSEG_CHECK(frame >= 0, "add_boundary: frame must be >= 0, got {}", frame);
  return [frame](Sample& s, Generator&) {
    RTSEG_CHECK(!s.label.empty(), "add_boundary: sample '{}' has no label", s.name);
    s.edge = boundary_map(s.label, frame);
  };
}

Transform random_scale_steps(int base_size, int steps, double divisor, double min_scale) {
  RTSEG_CHECK(base_size > 0 && steps >= 0 && min_scale > 0 && divisor > 0,
              "random_scale_steps: bad parameters base {} steps {} divisor {} min {}", base_size,
              steps, divisor, min_scale);
  return [=](Sample& s, Generator& gen) {
    const double scale = min_scale + double(gen.randint(steps + 1)) / divisor;
    int w, h, nw, nh;
    sample_size(s, w, h);
    scaled_size(w, h, base_size, scale, nw, nh);
    resize_sample(s, nw, nh);
  };
}

Transform random_scale_crop(int base_size, int crop_height, int crop_width, int steps,
                            double divisor, double min_scale, Fill fill) {
  RTSEG_CHECK(base_size > 0 && steps >= 0 && min_scale > 0 && divisor > 0,
              "random_scale_crop: bad parameters base {} steps {} divisor {} min {}", base_size,
              steps, divisor, min_scale);
  RTSEG_CHECK(crop_width > 0 && crop_height > 0, "random_scale_crop: crop {}x{} must be positive",
              crop_width, crop_height);
  return [=](Sample& s, Generator& gen) {
    const double scale = min_scale + double(gen.randint(steps + 1)) / divisor;
    int w, h, nw, nh;
    sample_size(s, w, h);
    scaled_size(w, h, base_size, scale, nw, nh);
    // Draws exactly as random_crop does after padding to at least the crop size.
    const int pw = std::max(nw, crop_width), ph = std::max(nh, crop_height);
    int x = 0, y = 0;
    if (pw != crop_width || ph != crop_height) {
      x = int(gen.randint(pw - crop_width + 1));
      y = int(gen.randint(ph - crop_height + 1));
    }
    resize_crop_sample(s, nw, nh, x, y, crop_width, crop_height, fill);
  };
}

Transform random_scale_uniform(double lo, double hi) {
  RTSEG_CHECK(lo > 0 && hi >= lo, "random_scale_uniform: need 0 < lo <= hi, got {} {}", lo, hi);
  return [=](Sample& s, Generator& gen) {
    const double scale = lo + (hi - lo) * gen.uniform();
    int w, h;
    sample_size(s, w, h);
    resize_sample(s, std::max(int(scale * w), 1), std::max(int(scale * h), 1));
  };
}

Transform resize_to(int width, int height) {
  RTSEG_CHECK(width > 0 && height > 0, "resize_to: size {}x{} must be positive", width, height);
  return [=](Sample& s, Generator&) { resize_sample(s, width, height); };
}

Transform random_crop(int height, int width, CropMode mode, Fill fill) {
  RTSEG_CHECK(width > 0 && height > 0, "random_crop: size {}x{} must be positive", width, height);
  return [=](Sample& s, Generator& gen) {
    int w, h;
    sample_size(s, w, h);
    if (mode == CropMode::Pad) {
      pad_sample(s, height, width, fill);
      sample_size(s, w, h);
    } else if (w < width || h < height) {
      resize_sample(s, width, height);
      return;
    }
    if (w == width && h == height) return;
    const int x = int(gen.randint(w - width + 1));
    const int y = int(gen.randint(h - height + 1));
    crop_sample(s, x, y, width, height);
  };
}

Transform random_hflip(double p) {
  RTSEG_CHECK(p >= 0 && p <= 1, "random_hflip: probability {} not in [0, 1]", p);
  return [p](Sample& s, Generator& gen) {
    if (gen.uniform() < p) hflip_sample(s);
  };
}

Transform random_rotate(double max_degrees, int label_fill) {
  RTSEG_CHECK(max_degrees >= 0, "random_rotate: max angle {} must be >= 0", max_degrees);
  return [=](Sample& s, Generator& gen) {
    const double degrees = gen.uniform() * 2 * max_degrees - max_degrees;
    Fill fill;
    fill.label = label_fill;
    rotate_sample(s, degrees, fill);
  };
}

Transform colour_jitter(double gamma, double saturation, double contrast) {
  RTSEG_CHECK(gamma >= 0 && saturation >= 0 && contrast >= 0,
              "colour_jitter: amounts must be >= 0");
  return [=](Sample& s, Generator& gen) {
    if (gamma > 0) adjust_gamma(s.image, 1.0 + gamma * gen.uniform());
    if (saturation > 0)
      adjust_saturation(s.image, 1.0 - saturation + 2 * saturation * gen.uniform());
    if (contrast > 0) adjust_contrast(s.image, 1.0 - contrast + 2 * contrast * gen.uniform());
  };
}

Pipeline pidnet_train_pipeline(int base_size, int crop_height, int crop_width, int boundary_frame,
                               bool with_boundary) {
  Pipeline p;
  if (with_boundary) p.add("boundary", add_boundary(boundary_frame));
  p.add("multi_scale_pad_crop", random_scale_crop(base_size, crop_height, crop_width));
  p.add("hflip", random_hflip(0.5));
  return p;
}

Pipeline cifrenet_train_pipeline(int crop_height, int crop_width, int rotate_label_fill) {
  Pipeline p;
  p.add("hflip", random_hflip(0.5));
  p.add("random_sized", random_scale_uniform(0.5, 1.5));
  p.add("rotate", random_rotate(3.0, rotate_label_fill));
  p.add("colour_jitter", colour_jitter(0.2, 0.2, 0.2));
  p.add("crop", random_crop(crop_height, crop_width, CropMode::ResizeUp));
  return p;
}

}  // namespace rtseg::data
