#include "data/synthetic_canvas.h"

#include <algorithm>
#include <cmath>

namespace rtseg::data::synthetic {

namespace {

float hash01(int x, int y, uint32_t salt) {
  uint32_t h = uint32_t(x) * 0x8DA6B343u ^ uint32_t(y) * 0xD8163841u ^ salt * 0xCB1AB31Fu;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return float(h & 0xFFFFFF) / float(0xFFFFFF);
}

float smooth(float t) { return t * t * (3 - 2 * t); }

}  // namespace

void Texture::colour(int x, int y, float* rgb) const {
  float mix = 0.0f;
  switch (kind) {
    case Flat:
      break;
    case Stripes:
      mix = 0.5f + 0.5f * std::sin(fx * float(x) + fy * float(y) + phase);
      break;
    case Checks:
      mix = float((int(std::floor(x / period)) + int(std::floor(y / period))) & 1);
      break;
    case Blotches: {
      const float u = float(x) / period, v = float(y) / period;
      const int ix = int(std::floor(u)), iy = int(std::floor(v));
      const float tx = smooth(u - float(ix)), ty = smooth(v - float(iy));
      const float top =
          hash01(ix, iy, salt) + (hash01(ix + 1, iy, salt) - hash01(ix, iy, salt)) * tx;
      const float bottom =
          hash01(ix, iy + 1, salt) + (hash01(ix + 1, iy + 1, salt) - hash01(ix, iy + 1, salt)) * tx;
      mix = top + (bottom - top) * ty;
      break;
    }
  }
  for (size_t c = 0; c < 3; ++c) rgb[c] = a[c] + (b[c] - a[c]) * mix;
}

Texture random_texture(Generator& gen, float contrast) {
  Texture t;
  t.kind = static_cast<Texture::Kind>(gen.randint(4));
  for (int c = 0; c < 3; ++c) t.a[size_t(c)] = float(15 + 225 * gen.uniform());
  // The second colour: mostly a shade of the first, sometimes an unrelated colour.
  const bool unrelated = gen.uniform() < 0.25;
  for (int c = 0; c < 3; ++c) {
    const float offset = float((2 * gen.uniform() - 1) * contrast);
    t.b[size_t(c)] = unrelated ? float(15 + 225 * gen.uniform())
                               : std::clamp(t.a[size_t(c)] + offset, 0.0f, 255.0f);
  }
  const double angle = M_PI * gen.uniform(), frequency = 2 * M_PI / (3 + 20 * gen.uniform());
  t.fx = float(std::cos(angle) * frequency);
  t.fy = float(std::sin(angle) * frequency);
  t.phase = float(2 * M_PI * gen.uniform());
  t.period = float(2 + 14 * gen.uniform());
  t.salt = uint32_t(gen.next_u64());
  return t;
}

Canvas::Canvas(int width, int height)
    : image(width, height, 3),
      label(width, height, 255),
      shade_(size_t(width) * height * 3, 0.0f) {}

void Canvas::span(int y, double x0, double x1, int cls, const Texture& tex) {
  if (y < 0 || y >= height()) return;
  const int a = std::max(0, int(std::ceil(x0 - 0.5))),
            b = std::min(width(), int(std::ceil(x1 - 0.5)));
  for (int x = a; x < b; ++x) {
    tex.colour(x, y, &shade_[(size_t(y) * width() + size_t(x)) * 3]);
    label.at(x, y) = int16_t(cls);
  }
}

void Canvas::rect(double x0, double y0, double x1, double y1, int cls, const Texture& tex) {
  const int a = std::max(0, int(std::ceil(y0 - 0.5))),
            b = std::min(height(), int(std::ceil(y1 - 0.5)));
  for (int y = a; y < b; ++y) span(y, x0, x1, cls, tex);
}

void Canvas::ellipse(double cx, double cy, double rx, double ry, int cls, const Texture& tex) {
  if (rx <= 0 || ry <= 0) return;
  const int a = std::max(0, int(std::ceil(cy - ry - 0.5))),
            b = std::min(height(), int(std::ceil(cy + ry - 0.5)));
  for (int y = a; y < b; ++y) {
    const double d = (y + 0.5 - cy) / ry;
    if (std::abs(d) >= 1) continue;
    const double half = rx * std::sqrt(1 - d * d);
    span(y, cx - half, cx + half, cls, tex);
  }
}

void Canvas::ring(double cx, double cy, double rx, double ry, double inner, int cls,
                  const Texture& tex) {
  if (rx <= 0 || ry <= 0) return;
  const double irx = rx * inner, iry = ry * inner;
  const int a = std::max(0, int(std::ceil(cy - ry - 0.5))),
            b = std::min(height(), int(std::ceil(cy + ry - 0.5)));
  for (int y = a; y < b; ++y) {
    const double d = (y + 0.5 - cy) / ry;
    if (std::abs(d) >= 1) continue;
    const double half = rx * std::sqrt(1 - d * d);
    const double di = (y + 0.5 - cy) / iry;
    if (iry > 0 && std::abs(di) < 1) {
      const double ihalf = irx * std::sqrt(1 - di * di);
      span(y, cx - half, cx - ihalf, cls, tex);
      span(y, cx + ihalf, cx + half, cls, tex);
    } else {
      span(y, cx - half, cx + half, cls, tex);
    }
  }
}

void Canvas::polygon(const std::vector<Point>& points, int cls, const Texture& tex) {
  if (points.size() < 3) return;
  double ymin = points[0].y, ymax = points[0].y;
  for (const Point& p : points) {
    ymin = std::min(ymin, p.y);
    ymax = std::max(ymax, p.y);
  }
  const int a = std::max(0, int(std::ceil(ymin - 0.5))),
            b = std::min(height(), int(std::ceil(ymax - 0.5)));
  for (int y = a; y < b; ++y) {
    const double yc = y + 0.5;
    double lo = 1e30, hi = -1e30;
    for (size_t i = 0; i < points.size(); ++i) {
      const Point& p = points[i];
      const Point& q = points[(i + 1) % points.size()];
      if ((yc < p.y) == (yc < q.y)) continue;  // the edge does not cross this row
      const double x = p.x + (yc - p.y) * (q.x - p.x) / (q.y - p.y);
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (lo < hi) span(y, lo, hi, cls, tex);
  }
}

void Canvas::line(Point a, Point b, double thickness, int cls, const Texture& tex) {
  const double dx = b.x - a.x, dy = b.y - a.y, len = std::hypot(dx, dy);
  if (len <= 0) return;
  const double nx = -dy / len * thickness / 2, ny = dx / len * thickness / 2;
  polygon({{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}},
          cls, tex);
}

void Canvas::finish(Generator& gen, double sigma) {
  const double base = 0.7 + 0.45 * gen.uniform(), gx = 0.7 * (gen.uniform() - 0.5),
               gy = 0.7 * (gen.uniform() - 0.5);
  const int w = width(), h = height();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double light = base + gx * (double(x) / w - 0.5) + gy * (double(y) / h - 0.5);
      for (int c = 0; c < 3; ++c) {
        const size_t i = (size_t(y) * w + size_t(x)) * 3 + size_t(c);
        const double v = shade_[i] * light + sigma * gen.normal();
        image.pixels[i] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
}

}  // namespace rtseg::data::synthetic
