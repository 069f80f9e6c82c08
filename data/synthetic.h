// A built-in synthetic dataset: procedural street scenes labelled in Cityscapes' 19-class
// train-id space (road with lane markings, sidewalk, buildings with windows, walls, fences,
// poles with traffic signs and lights, vegetation, terrain, sky, people, riders on bicycles and
// motorcycles, cars, trucks, buses, trains), seen in perspective from a road.
//
// Made for tests, smoke runs and benchmarks without any downloaded data: each sample is a pure
// function of (seed, index, size), any number of samples at any size. Every instance gets a
// random texture from one distribution shared by all classes, the scene gets a light gradient
// and Gaussian noise, so a net has to learn layout and shape, not colour.
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace rtseg::data {

struct SyntheticOptions {
  size_t size = 1000;  // number of samples
  int width = 512, height = 256;
  uint64_t seed = 0;
  double noise_sigma = 10.0;  // Gaussian pixel noise (8-bit units)
  bool complexity = false;    // attach a complexity map: local density of label boundaries
};

// One scene; deterministic in (width, height, seed, noise_sigma).
Sample render_street_scene(int width, int height, uint64_t seed, double noise_sigma = 10.0);
// The complexity map the synthetic set attaches: the fraction of boundary pixels in a window of
// about 1/16 of the image's short side around each pixel, scaled by 4 and capped at 1.
FloatMap boundary_density(const Label& label);

class SyntheticStreetDataset : public Dataset {
 public:
  explicit SyntheticStreetDataset(SyntheticOptions options = {});
  size_t size() const override { return options_.size; }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;
  const SyntheticOptions& options() const { return options_; }

 private:
  SyntheticOptions options_;
};

}  // namespace rtseg::data
