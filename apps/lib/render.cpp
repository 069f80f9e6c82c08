#include "apps/lib/render.h"

#include <algorithm>
#include <cmath>

#include "apps/lib/raster.h"
#include "kernels/error.h"

namespace rtseg::app {

data::Image colourize(const data::Label& classes, const std::vector<data::png::Rgb>& palette) {
  return data::classes_to_colours(classes, palette);
}

data::Image overlay(const data::Image& image, const data::Image& colours, double alpha) {
  RTSEG_CHECK(image.width == colours.width && image.height == colours.height &&
                  image.channels == 3 && colours.channels == 3,
              "overlay: image {}x{}x{} and colours {}x{}x{} differ", image.width, image.height,
              image.channels, colours.width, colours.height, colours.channels);
  RTSEG_CHECK(alpha >= 0 && alpha <= 1, "overlay: alpha {} not in [0, 1]", alpha);
  data::Image out = image;
  for (size_t i = 0; i < out.pixels.size(); ++i) {
    out.pixels[i] = uint8_t(std::lround((1 - alpha) * image.pixels[i] + alpha * colours.pixels[i]));
  }
  return out;
}

data::Image with_legend(const data::Image& image, const data::Label& classes,
                        const std::vector<std::string>& names,
                        const std::vector<data::png::Rgb>& palette) {
  std::vector<bool> present(names.size(), false);
  for (int16_t v : classes.values) {
    if (v >= 0 && size_t(v) < present.size()) present[size_t(v)] = true;
  }
  // Entries flow left to right in rows as wide as the image.
  const int entry_height = 14, swatch = 10;
  std::vector<std::pair<int, int>> positions;
  const int width = image.width;  // long names are clipped at the image's edge
  int x = 4, y = 4;
  for (size_t c = 0; c < names.size(); ++c) {
    if (!present[c]) continue;
    const int w = swatch + 4 + Canvas::text_width(names[c]) + 12;
    if (x + w > width && x > 4) x = 4, y += entry_height;
    positions.emplace_back(x, y);
    x += w;
  }
  const int strip = positions.empty() ? 0 : y + entry_height + 2;
  Canvas canvas(width, image.height + strip, {255, 255, 255});
  data::Image out = canvas.image();
  for (int row = 0; row < image.height; ++row) {
    for (int col = 0; col < image.width; ++col) {
      for (int ch = 0; ch < 3; ++ch) out.at(col, row, ch) = image.at(col, row, ch);
    }
  }
  Canvas legend(width, strip, {255, 255, 255});
  size_t k = 0;
  for (size_t c = 0; c < names.size(); ++c) {
    if (!present[c]) continue;
    const auto [lx, ly] = positions[k++];
    const data::png::Rgb col = c < palette.size() ? palette[c] : data::png::Rgb{0, 0, 0};
    legend.fill_rect(lx, ly, lx + swatch, ly + swatch, {col[0], col[1], col[2]});
    legend.text(lx + swatch + 4, ly + 2, names[c], {20, 20, 20});
  }
  std::copy(legend.image().pixels.begin(), legend.image().pixels.end(),
            out.pixels.begin() + ptrdiff_t(size_t(image.height) * width * 3));
  return out;
}

data::Image prediction_overlay(const data::Image& image, const data::Label& prediction,
                               const data::DatasetInfo& info, double alpha, bool legend) {
  const data::Image blended = overlay(image, colourize(prediction, info.palette), alpha);
  return legend ? with_legend(blended, prediction, info.class_names, info.palette) : blended;
}

}  // namespace rtseg::app
