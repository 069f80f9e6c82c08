#include "apps/lib/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "apps/lib/csv_log.h"
#include "data/image_io.h"

namespace rtseg::app {

namespace {

const Colour kBackground{255, 255, 255}, kAxis{40, 40, 40}, kGrid{225, 225, 225}, kText{30, 30, 30};

// Tick step: 1, 2 or 5 × 10^k, giving about `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10 * p;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-6) return "0";
  if (std::abs(v) >= 1e5 || std::abs(v) < 1e-3) return fmt::format("{:.1e}", v);
  const int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

void draw_chart(Canvas& canvas, const Chart& chart, int top, int width, int height) {
  const int left = 64, right = width - 16, plot_top = top + 26, bottom = top + height - 30;
  canvas.text(left, top + 8, chart.title, kText, 2);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  canvas.line(left, plot_top, left, bottom, kAxis);
  canvas.line(left, bottom, right, bottom, kAxis);
  if (!std::isfinite(x0)) {
    canvas.text(left + 20, (plot_top + bottom) / 2, "no data yet", kText, 2);
    return;
  }
  if (chart.y_from_zero) y0 = std::min(y0, 0.0), y1 = std::max(y1, 0.0);
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + std::max(1e-3, std::abs(y0) * 0.1);
  const double pad = (y1 - y0) * 0.05;
  if (!(chart.y_from_zero && y0 == 0)) y0 -= pad;  // a zero-based axis starts at 0
  y1 += pad;
  auto px = [&](double x) {
    return left + int(std::lround((x - x0) / (x1 - x0) * (right - left)));
  };
  auto py = [&](double y) {
    return bottom - int(std::lround((y - y0) / (y1 - y0) * (bottom - plot_top)));
  };

  const double ys = nice_step(y1 - y0, 5);
  for (double v = std::ceil(y0 / ys) * ys; v <= y1; v += ys) {
    canvas.line(left + 1, py(v), right, py(v), kGrid);
    const std::string label = tick_label(v, ys);
    canvas.text(left - 6 - Canvas::text_width(label), py(v) - 3, label, kText);
  }
  const double xs = chart.integer_x ? std::max(1.0, nice_step(x1 - x0, 6)) : nice_step(x1 - x0, 6);
  for (double v = std::ceil(x0 / xs) * xs; v <= x1; v += xs) {
    canvas.line(px(v), bottom, px(v), bottom + 4, kAxis);
    const std::string label = tick_label(v, xs);
    canvas.text(px(v) - Canvas::text_width(label) / 2, bottom + 8, label, kText);
  }
  canvas.text(right - Canvas::text_width(chart.x_label), bottom + 18, chart.x_label, kText);

  for (const Series& s : chart.series) {
    bool have_previous = false;
    int prev_x = 0, prev_y = 0;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        have_previous = false;
        continue;
      }
      const int cx = px(x), cy = py(y);
      if (have_previous) canvas.line(prev_x, prev_y, cx, cy, s.colour, 2);
      if (s.markers) canvas.fill_rect(cx - 2, cy - 2, cx + 3, cy + 3, s.colour);
      prev_x = cx, prev_y = cy, have_previous = true;
    }
  }
}

// (iteration, column) pairs of a CSV log.
std::vector<std::pair<double, double>> column_points(const std::string& path,
                                                     const std::string& column, double scale) {
  std::vector<std::pair<double, double>> out;
  const auto rows = read_csv(path);
  if (rows.empty()) return out;
  const auto it = std::find(rows[0].begin(), rows[0].end(), column);
  if (it == rows[0].end()) return out;
  const size_t col = size_t(it - rows[0].begin());
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() <= col) continue;
    out.emplace_back(std::strtod(rows[r][0].c_str(), nullptr),
                     std::strtod(rows[r][col].c_str(), nullptr) * scale);
  }
  return out;
}

}  // namespace

Canvas render_charts(const std::vector<Chart>& charts, int width, int panel_height) {
  Canvas canvas(width, panel_height * int(std::max<size_t>(1, charts.size())), kBackground);
  for (size_t i = 0; i < charts.size(); ++i) {
    draw_chart(canvas, charts[i], int(i) * panel_height, width, panel_height);
  }
  return canvas;
}

void write_training_curves(const std::string& png_path, const std::string& train_csv,
                           const std::string& val_csv) {
  Chart loss{"training loss",
             "iteration",
             {{column_points(train_csv, "loss", 1.0), {200, 60, 40}, false}},
             true};
  Chart miou{"validation miou %",
             "iteration",
             {{column_points(val_csv, "mIoU", 100.0), {30, 90, 200}, true}},
             true,
             true};
  data::write_png(png_path, render_charts({loss, miou}, 800, 300).image());
}

}  // namespace rtseg::app
