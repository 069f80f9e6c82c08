// Drawing primitives for the synthetic street scenes: every primitive paints the image with a
// texture and the label with a class id in one go, so pixels and labels cannot disagree.
// Textures are per instance and drawn from one distribution for all classes (flat, stripes,
// checks, blotches in random colours), so colour alone never tells a class.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/random.h"
#include "data/image.h"

namespace rtseg::data::synthetic {

struct Texture {
  enum Kind { Flat, Stripes, Checks, Blotches } kind = Flat;
  std::array<float, 3> a{}, b{};                // the two colours the pattern mixes
  float fx = 0, fy = 0, phase = 0;              // stripes: direction·frequency
  float period = 8;                             // checks and blotches
  uint32_t salt = 0;                            // blotch noise seed
  void colour(int x, int y, float* rgb) const;  // the float RGB at pixel (x, y)
};

// A random texture; `contrast` bounds how far the second colour is from the first.
Texture random_texture(Generator& gen, float contrast = 70.0f);

struct Point {
  double x, y;
};

class Canvas {
 public:
  Canvas(int width, int height);
  int width() const { return image.width; }
  int height() const { return image.height; }

  void rect(double x0, double y0, double x1, double y1, int cls, const Texture& tex);
  void ellipse(double cx, double cy, double rx, double ry, int cls, const Texture& tex);
  // A ring (ellipse minus the inner ellipse scaled by `inner`), e.g. a wheel.
  void ring(double cx, double cy, double rx, double ry, double inner, int cls, const Texture& tex);
  // A convex polygon (vertices in order); rows are filled between the extreme edge crossings.
  void polygon(const std::vector<Point>& points, int cls, const Texture& tex);
  // A straight bar of the given thickness from a to b.
  void line(Point a, Point b, double thickness, int cls, const Texture& tex);

  // Multiplies by a linear light gradient, adds Gaussian noise of `sigma`, clamps to 0..255.
  void finish(Generator& gen, double sigma);

  Image image;
  Label label;

 private:
  void span(int y, double x0, double x1, int cls, const Texture& tex);
  std::vector<float> shade_;  // float image before lighting/noise
};

}  // namespace rtseg::data::synthetic
