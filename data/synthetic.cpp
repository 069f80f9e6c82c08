#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "data/boundary.h"
#include "data/cityscapes.h"
#include "data/synthetic_canvas.h"

namespace rtseg::data {

namespace {

using synthetic::Canvas;
using synthetic::Point;
using synthetic::random_texture;
using synthetic::Texture;

// Cityscapes train ids.
enum Cls : int {
  Road = 0,
  Sidewalk,
  Building,
  Wall,
  Fence,
  Pole,
  TrafficLight,
  TrafficSign,
  Vegetation,
  Terrain,
  Sky,
  Person,
  Rider,
  Car,
  Truck,
  Bus,
  Train,
  Motorcycle,
  Bicycle
};

uint64_t mix_seed(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double uni(Generator& g, double lo, double hi) { return lo + (hi - lo) * g.uniform(); }

// The road scene's perspective: depth u in (0, 1] runs from the horizon to the bottom row; the
// ground point at depth u and lateral position `lateral` (0 = vanishing line, ±1 = the road's
// bottom edges' offsets) and the scale of objects standing there.
struct View {
  double w, h, horizon, vx, road_left, road_right, walk_left, walk_right;
  double ground_y(double u) const { return horizon + u * (h - horizon); }
  double at(double bottom_x, double u) const { return vx + (bottom_x - vx) * u; }
};

void draw_building_row(Canvas& c, const View& v, Generator& g) {
  double x = -uni(g, 0, 0.1) * v.w;
  while (x < v.w) {
    const double bw = v.w * uni(g, 0.06, 0.22);
    if (g.uniform() < 0.85) {
      const double top = v.horizon - v.h * uni(g, 0.06, 0.42), bottom = v.horizon + 2;
      c.rect(x, top, x + bw, bottom, Building, random_texture(g));
      // Windows: a grid with its own texture, still labelled building.
      const Texture glass = random_texture(g, 30);
      const int cols = 2 + int(g.randint(5)), rows = 2 + int(g.randint(7));
      const double cw = bw / cols, rh = (bottom - top) / (rows + 1), fill = uni(g, 0.35, 0.7);
      for (int r = 0; r < rows; ++r) {
        for (int k = 0; k < cols; ++k) {
          const double wx = x + k * cw + cw * (1 - fill) / 2, wy = top + rh * (r + 0.4);
          c.rect(wx, wy, wx + cw * fill, wy + rh * fill, Building, glass);
        }
      }
    }
    x += bw + (g.uniform() < 0.2 ? v.w * uni(g, 0, 0.06) : 0.0);
  }
  // Distant tree tops in front of the skyline.
  for (int n = int(g.randint(4)); n > 0; --n) {
    const Texture leaves = random_texture(g);
    const double cx = uni(g, 0, v.w), r = v.h * uni(g, 0.03, 0.09);
    c.ellipse(cx, v.horizon - r * 0.4, r * uni(g, 1.0, 2.5), r, Vegetation, leaves);
  }
}

void draw_ground(Canvas& c, const View& v, Generator& g) {
  c.rect(0, v.horizon, v.w, v.h, Terrain, random_texture(g));
  const double top = v.horizon;
  c.polygon({{v.vx - 1, top}, {v.vx + 1, top}, {v.walk_right, v.h}, {v.walk_left, v.h}}, Sidewalk,
            random_texture(g));
  c.polygon({{v.vx - 0.5, top}, {v.vx + 0.5, top}, {v.road_right, v.h}, {v.road_left, v.h}}, Road,
            random_texture(g));
  // Dashed centre line (and sometimes edge lines), still road.
  const Texture paint = random_texture(g, 20);
  const double centre = (v.road_left + v.road_right) / 2,
               width = (v.road_right - v.road_left) * 0.015;
  const double period = uni(g, 0.08, 0.16), duty = uni(g, 0.3, 0.6);
  for (double u = uni(g, 0, period); u < 1.0; u += period) {
    const double u1 = std::min(u + period * duty, 1.0);
    const double y0 = v.ground_y(u), y1 = v.ground_y(u1);
    const double x0 = v.at(centre, u), x1 = v.at(centre, u1);
    c.polygon(
        {{x0 - width * u, y0}, {x0 + width * u, y0}, {x1 + width * u1, y1}, {x1 - width * u1, y1}},
        Road, paint);
  }
  if (g.uniform() < 0.5) {
    for (double side : {0.04, 0.96}) {
      const double bx = v.road_left + (v.road_right - v.road_left) * side;
      c.line({v.at(bx, 0.02), v.ground_y(0.02)}, {bx, v.h}, std::max(1.0, width), Road, paint);
    }
  }
}

// Objects standing on the ground; each knows its depth so they can be painted far to near.
struct Thing {
  double u;
  std::function<void(Canvas&, Generator&)> draw;
};

void person(Canvas& c, Generator& g, double x, double y, double height, int cls) {
  const Texture clothes = random_texture(g), skin = random_texture(g, 20), legs = random_texture(g);
  const double head = height * 0.13, shoulder = height * 0.2;
  c.line({x - shoulder * 0.3, y - height * 0.47}, {x - shoulder * 0.45, y}, height * 0.09, cls,
         legs);
  c.line({x + shoulder * 0.3, y - height * 0.47}, {x + shoulder * 0.45, y}, height * 0.09, cls,
         legs);
  c.polygon({{x - shoulder / 2, y - height * 0.82},
             {x + shoulder / 2, y - height * 0.82},
             {x + shoulder * 0.4, y - height * 0.45},
             {x - shoulder * 0.4, y - height * 0.45}},
            cls, clothes);
  c.line({x - shoulder / 2, y - height * 0.8}, {x - shoulder * 0.7, y - height * 0.5},
         height * 0.06, cls, clothes);
  c.line({x + shoulder / 2, y - height * 0.8}, {x + shoulder * 0.7, y - height * 0.5},
         height * 0.06, cls, clothes);
  c.ellipse(x, y - height * 0.82 - head * 0.55, head * 0.42, head * 0.55, cls, skin);
}

void vehicle(Canvas& c, Generator& g, double x, double y, double unit) {
  const double r = g.uniform();
  const Texture body = random_texture(g), glass = random_texture(g, 25),
                tyre = random_texture(g, 15);
  if (r < 0.55) {  // car
    const double h = unit * 0.3, w = h * uni(g, 1.5, 2.3);
    c.polygon({{x - w * 0.32, y - h},
               {x + w * 0.3, y - h},
               {x + w * 0.42, y - h * 0.6},
               {x - w * 0.45, y - h * 0.6}},
              Car, body);
    c.rect(x - w / 2, y - h * 0.62, x + w / 2, y - h * 0.12, Car, body);
    c.polygon({{x - w * 0.28, y - h * 0.93},
               {x + w * 0.26, y - h * 0.93},
               {x + w * 0.35, y - h * 0.64},
               {x - w * 0.38, y - h * 0.64}},
              Car, glass);
    for (double side : {-0.32, 0.32})
      c.ellipse(x + side * w, y - h * 0.12, h * 0.16, h * 0.14, Car, tyre);
  } else if (r < 0.7) {  // truck: cargo box and cabin
    const double h = unit * 0.5, w = h * uni(g, 1.2, 1.9);
    c.rect(x - w / 2, y - h, x + w * 0.2, y - h * 0.12, Truck, body);
    c.rect(x + w * 0.2, y - h * 0.65, x + w / 2, y - h * 0.12, Truck, random_texture(g));
    c.rect(x + w * 0.28, y - h * 0.6, x + w * 0.46, y - h * 0.4, Truck, glass);
    for (double side : {-0.35, 0.05, 0.38})
      c.ellipse(x + side * w, y - h * 0.1, h * 0.1, h * 0.1, Truck, tyre);
  } else if (r < 0.82) {  // bus: tall box with a row of windows
    const double h = unit * 0.45, w = h * uni(g, 2.0, 3.0);
    c.rect(x - w / 2, y - h, x + w / 2, y - h * 0.1, Bus, body);
    const int windows = 4 + int(g.randint(4));
    for (int k = 0; k < windows; ++k) {
      const double wx = x - w / 2 + w * (k + 0.15) / windows;
      c.rect(wx, y - h * 0.85, wx + w * 0.7 / windows, y - h * 0.5, Bus, glass);
    }
    for (double side : {-0.35, 0.35})
      c.ellipse(x + side * w, y - h * 0.1, h * 0.1, h * 0.1, Bus, tyre);
  } else if (r < 0.85) {  // train: a long low-roofed box
    const double h = unit * 0.42, w = h * uni(g, 3.5, 6.0);
    c.rect(x - w / 2, y - h, x + w / 2, y - h * 0.05, Train, body);
    c.rect(x - w / 2, y - h * 0.8, x + w / 2, y - h * 0.55, Train, glass);
  } else {  // two-wheeler with its rider
    const bool motor = g.uniform() < 0.5;
    const int cls = motor ? Motorcycle : Bicycle;
    const double wheel = unit * 0.055, span = wheel * 3.2;
    c.ring(x - span / 2, y - wheel, wheel, wheel, motor ? 0.45 : 0.8, cls, tyre);
    c.ring(x + span / 2, y - wheel, wheel, wheel, motor ? 0.45 : 0.8, cls, tyre);
    if (motor) {
      c.ellipse(x, y - wheel * 1.6, span * 0.45, wheel * 0.8, cls, body);
    } else {
      c.line({x - span / 2, y - wheel}, {x, y - wheel * 2.2}, wheel * 0.25, cls, body);
      c.line({x, y - wheel * 2.2}, {x + span / 2, y - wheel}, wheel * 0.25, cls, body);
      c.line({x - span * 0.1, y - wheel}, {x, y - wheel * 2.2}, wheel * 0.25, cls, body);
    }
    person(c, g, x, y - wheel * 1.4, unit * 0.27, Rider);
  }
}

void pole(Canvas& c, Generator& g, double x, double y, double unit, double top_limit) {
  const double height = unit * uni(g, 0.6, 1.0), width = std::max(1.5, unit * 0.012);
  const double top = std::max(y - height, top_limit);
  c.rect(x - width / 2, top, x + width / 2, y, Pole, random_texture(g));
  const double r = g.uniform(), size = unit * uni(g, 0.04, 0.07);
  if (r < 0.45) {  // traffic sign: plate, disc or triangle
    const Texture plate = random_texture(g);
    const int shape = int(g.randint(3));
    const double cy = top + size;
    if (shape == 0)
      c.rect(x - size, cy - size * 0.7, x + size, cy + size * 0.7, TrafficSign, plate);
    if (shape == 1) c.ellipse(x, cy, size, size, TrafficSign, plate);
    if (shape == 2)
      c.polygon({{x, cy - size}, {x + size, cy + size * 0.8}, {x - size, cy + size * 0.8}},
                TrafficSign, plate);
  } else if (r < 0.75) {  // traffic light: a box with three lamps
    const Texture box = random_texture(g), lamp = random_texture(g);
    c.rect(x - size * 0.5, top, x + size * 0.5, top + size * 2.6, TrafficLight, box);
    for (int k = 0; k < 3; ++k)
      c.ellipse(x, top + size * (0.45 + 0.85 * k), size * 0.32, size * 0.32, TrafficLight, lamp);
  } else {  // street lamp arm
    c.line({x, top}, {x + (g.uniform() < 0.5 ? -1 : 1) * size * 3, top + size * 0.3}, width, Pole,
           random_texture(g));
  }
}

void tree(Canvas& c, Generator& g, double x, double y, double unit) {
  const Texture bark = random_texture(g), leaves = random_texture(g);
  const double height = unit * uni(g, 0.5, 0.9), trunk = std::max(1.5, unit * 0.025);
  c.rect(x - trunk / 2, y - height * 0.6, x + trunk / 2, y, Vegetation, bark);
  for (int k = 0; k < 3 + int(g.randint(3)); ++k) {
    c.ellipse(x + uni(g, -0.15, 0.15) * height, y - height * uni(g, 0.6, 0.9),
              height * uni(g, 0.15, 0.3), height * uni(g, 0.12, 0.25), Vegetation, leaves);
  }
}

// A fence (lattice, see-through) or a wall (solid) along the outer side of a sidewalk.
void barrier(Canvas& c, Generator& g, const View& v, double bottom_x, double u0, double u1,
             bool wall) {
  const Texture tex = random_texture(g);
  const double height = (v.h - v.horizon) * uni(g, 0.25, 0.45);
  auto top = [&](double u) { return Point{v.at(bottom_x, u), v.ground_y(u) - height * u}; };
  auto base = [&](double u) { return Point{v.at(bottom_x, u), v.ground_y(u)}; };
  if (wall) {
    c.polygon({top(u0), top(u1), base(u1), base(u0)}, Wall, tex);
    return;
  }
  for (double u = u0; u <= u1; u += (u1 - u0) / 8)
    c.line(top(u), base(u), std::max(1.0, 3 * u), Fence, tex);
  for (double f : {0.1, 0.5, 0.9}) {
    const Point a{top(u0).x, top(u0).y + (base(u0).y - top(u0).y) * f};
    const Point b{top(u1).x, top(u1).y + (base(u1).y - top(u1).y) * f};
    c.line(a, b, std::max(1.0, 2.5 * (u0 + u1) / 2), Fence, tex);
  }
}

}  // namespace

Sample render_street_scene(int width, int height, uint64_t seed, double noise_sigma) {
  RTSEG_CHECK(width >= 8 && height >= 8, "synthetic: size {}x{} is too small (8x8 at least)", width,
              height);
  Generator g(seed);
  Canvas c(width, height);
  View v{};
  v.w = width;
  v.h = height;
  v.horizon = height * uni(g, 0.32, 0.5);
  v.vx = width * uni(g, 0.35, 0.65);
  v.road_left = width * uni(g, -0.3, 0.25);
  v.road_right = width * uni(g, 0.75, 1.3);
  v.walk_left = v.road_left - width * uni(g, 0.1, 0.4);
  v.walk_right = v.road_right + width * uni(g, 0.1, 0.4);

  c.rect(0, 0, width, v.horizon + 1, Sky, random_texture(g));
  draw_building_row(c, v, g);
  draw_ground(c, v, g);

  std::vector<Thing> things;
  const double ground = height - v.horizon;
  auto add = [&](double u, std::function<void(Canvas&, Generator&)> f) {
    things.push_back({u, std::move(f)});
  };
  for (int n = int(g.randint(5)); n > 0; --n) {  // vehicles on the road
    const double u = uni(g, 0.12, 1.0), f = uni(g, 0.15, 0.85);
    add(u, [=](Canvas& cc, Generator& gg) {
      vehicle(cc, gg, v.at(v.road_left + (v.road_right - v.road_left) * f, u), v.ground_y(u),
              ground * u * 2.2);
    });
  }
  for (int n = int(g.randint(6)); n > 0; --n) {  // people on the sidewalks
    const double u = uni(g, 0.1, 1.0);
    const bool left = g.uniform() < 0.5;
    const double f = uni(g, 0.2, 0.8);
    const double bx = left ? v.walk_left + (v.road_left - v.walk_left) * f
                           : v.road_right + (v.walk_right - v.road_right) * f;
    const double size = ground * u * uni(g, 0.75, 0.95);
    add(u, [=](Canvas& cc, Generator& gg) {
      person(cc, gg, v.at(bx, u), v.ground_y(u), size, Person);
    });
  }
  for (int n = int(g.randint(5)); n > 0; --n) {  // poles at the kerb
    const double u = uni(g, 0.1, 1.0);
    const double bx = g.uniform() < 0.5 ? v.road_left - width * 0.02 : v.road_right + width * 0.02;
    add(u, [=](Canvas& cc, Generator& gg) {
      pole(cc, gg, v.at(bx, u), v.ground_y(u), ground * u * 2.0, 0.0);
    });
  }
  for (int n = int(g.randint(4)); n > 0; --n) {  // trees beyond the sidewalks
    const double u = uni(g, 0.1, 0.9);
    const double bx = g.uniform() < 0.5 ? v.walk_left - width * uni(g, 0, 0.2)
                                        : v.walk_right + width * uni(g, 0, 0.2);
    add(u, [=](Canvas& cc, Generator& gg) {
      tree(cc, gg, v.at(bx, u), v.ground_y(u), ground * u * 2.0);
    });
  }
  if (g.uniform() < 0.6) {  // a fence or a wall along one side
    const bool left = g.uniform() < 0.5, wall = g.uniform() < 0.45;
    const double u0 = uni(g, 0.05, 0.4), u1 = std::min(1.0, u0 + uni(g, 0.2, 0.7));
    const double bx = left ? v.walk_left : v.walk_right;
    add(u0, [=](Canvas& cc, Generator& gg) { barrier(cc, gg, v, bx, u0, u1, wall); });
  }
  std::stable_sort(things.begin(), things.end(),
                   [](const Thing& a, const Thing& b) { return a.u < b.u; });
  for (const Thing& t : things) t.draw(c, g);

  c.finish(g, noise_sigma);
  Sample s;
  s.image = std::move(c.image);
  s.label = std::move(c.label);
  return s;
}

FloatMap boundary_density(const Label& label) {
  const Label edges = boundary_map(label);
  const int w = label.width, h = label.height, r = std::max(1, std::min(w, h) / 32);
  // Integral image of the edge map, then a (2r+1)² box average.
  std::vector<double> integral(size_t(w + 1) * (h + 1), 0.0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      integral[size_t(y + 1) * (w + 1) + size_t(x + 1)] =
          edges.at(x, y) + integral[size_t(y) * (w + 1) + size_t(x + 1)] +
          integral[size_t(y + 1) * (w + 1) + size_t(x)] - integral[size_t(y) * (w + 1) + size_t(x)];
    }
  }
  FloatMap out(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int x0 = std::max(0, x - r), x1 = std::min(w, x + r + 1), y0 = std::max(0, y - r),
                y1 = std::min(h, y + r + 1);
      const double sum = integral[size_t(y1) * (w + 1) + size_t(x1)] -
                         integral[size_t(y0) * (w + 1) + size_t(x1)] -
                         integral[size_t(y1) * (w + 1) + size_t(x0)] +
                         integral[size_t(y0) * (w + 1) + size_t(x0)];
      out.at(x, y) = float(std::min(1.0, 4.0 * sum / double((x1 - x0) * (y1 - y0))));
    }
  }
  return out;
}

SyntheticStreetDataset::SyntheticStreetDataset(SyntheticOptions options) : options_(options) {
  RTSEG_CHECK(options_.size > 0, "synthetic: the dataset needs at least one sample");
  RTSEG_CHECK(options_.width >= 8 && options_.height >= 8,
              "synthetic: size {}x{} is too small (8x8 at least)", options_.width, options_.height);
  info_ = cityscapes_info();
  info_.name = "synthetic";
}

std::string SyntheticStreetDataset::describe(size_t index) const {
  return fmt::format("synthetic street scene {} (seed {}, {}x{})", index, options_.seed,
                     options_.width, options_.height);
}

Sample SyntheticStreetDataset::get(size_t index) const {
  RTSEG_CHECK(index < options_.size, "synthetic: index {} beyond the {} samples", index,
              options_.size);
  Sample s = render_street_scene(options_.width, options_.height, mix_seed(options_.seed, index),
                                 options_.noise_sigma);
  s.name = fmt::format("synthetic_{:06d}", index);
  if (options_.complexity) s.complexity = boundary_density(s.label);
  return s;
}

}  // namespace rtseg::data
