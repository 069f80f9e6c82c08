// A small RGB rasteriser for the training-curve plots: filled rectangles, thick lines
// (Bresenham with a square brush, clipped per pixel) and text in a built-in 5×7 pixel font
// (digits, capitals — lower case is drawn as capitals — and . - + : % / ( ) = _ space).
#pragma once

#include <cstdint>
#include <string>

#include "data/image.h"

namespace rtseg::app {

struct Colour {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Colour background);

  int width() const { return image_.width; }
  int height() const { return image_.height; }
  void set(int x, int y, Colour c);  // pixels outside the canvas are ignored
  Colour get(int x, int y) const;
  // [x0, x1) × [y0, y1)
  void fill_rect(int x0, int y0, int x1, int y1, Colour c);
  void line(int x0, int y0, int x1, int y1, Colour c, int thickness = 1);
  // Top-left corner at (x, y); each font pixel becomes scale × scale pixels.
  void text(int x, int y, const std::string& s, Colour c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }

  const data::Image& image() const { return image_; }

 private:
  data::Image image_;
};

}  // namespace rtseg::app
