// Line charts drawn with the rasteriser (raster.h) into a PNG: the training curves of a run —
// the training loss and the validation mIoU against the iteration — read from its CSV logs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "apps/lib/raster.h"

namespace rtseg::app {

struct Series {
  std::vector<std::pair<double, double>> points;  // (x, y), x increasing; NaN y values skipped
  Colour colour;
  bool markers = false;  // a dot at every point (sparse series such as validations)
};

struct Chart {
  std::string title;
  std::string x_label;
  std::vector<Series> series;
  bool integer_x = true;     // x ticks at whole numbers only (iterations)
  bool y_from_zero = false;  // the y axis includes 0 (scores), else it spans the data (losses)
};

// Charts stacked vertically, each `panel_height` pixels high, with axes, ticks at round
// numbers and grid lines. A chart without points says so.
Canvas render_charts(const std::vector<Chart>& charts, int width, int panel_height);

// curves.png of a run: "loss" of train_log.csv and "mIoU" of val_log.csv (either may be missing).
void write_training_curves(const std::string& png_path, const std::string& train_csv,
                           const std::string& val_csv);

}  // namespace rtseg::app
