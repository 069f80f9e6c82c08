// Geometric operations on a whole Sample: the image, label, edge and complexity maps move
// together, each with its own interpolation and fill value. Conventions (why they matter: the
// labels of a crop must line up with its pixels, exactly as in the authors' pipelines):
//  - bilinear (image, complexity) is OpenCV's INTER_LINEAR: pixel centres at +0.5, source
//    x = (x + 0.5)·in/out − 0.5, border pixels repeated, no antialiasing when shrinking;
//    8-bit results are rounded to nearest.
//  - nearest (label, edge) is OpenCV's INTER_NEAREST: source x = floor(x·in/out).
//  - padding goes to the bottom/right (PIDNet's copyMakeBorder): image 0 (raw value, before
//    normalisation), label 255 (ignore), edge 0, complexity 0.
#pragma once

#include <cstdint>

#include "data/dataset.h"

namespace rtseg::data {

Image resize_bilinear(const Image& image, int width, int height);
FloatMap resize_bilinear(const FloatMap& map, int width, int height);
Label resize_nearest(const Label& label, int width, int height);

struct Fill {
  uint8_t image = 0;
  int label = 255;
  int edge = 0;
  float complexity = 0.0f;
};

// Every present component of the sample (image, label, edge, complexity) must have one size;
// returns it. Throws naming the sample otherwise.
void sample_size(const Sample& s, int& width, int& height);

void resize_sample(Sample& s, int width, int height);
// Resize to width × height, pad bottom/right with `fill` up to the window if needed, and keep
// the window [x, x+crop_width) × [y, y+crop_height) — in one pass that computes only the window's
// pixels. Equal, pixel for pixel, to resize_sample + pad_sample + crop_sample.
void resize_crop_sample(Sample& s, int width, int height, int x, int y, int crop_width,
                        int crop_height, const Fill& fill = {});
// Pads bottom/right so that the sample is at least min_height × min_width.
void pad_sample(Sample& s, int min_height, int min_width, const Fill& fill = {});
// Keeps the window [x, x+width) × [y, y+height), which must lie inside the sample.
void crop_sample(Sample& s, int x, int y, int width, int height);
void hflip_sample(Sample& s);
// Rotates counter-clockwise by `degrees` about the image centre (w/2, h/2), keeping the size
// (PIL's Image.rotate, which CIFReNet uses). Output pixel centres map back into the source;
// those that land outside it take the fill values (label: `fill.label`, default ignore).
// Image and complexity are sampled bilinearly, label and edge by nearest neighbour.
void rotate_sample(Sample& s, double degrees, const Fill& fill = {});

}  // namespace rtseg::data
