// Transforms on small hand-checked cases: resize conventions, padding values, crops, flips,
// rotation (corners ignored), PIDNet's scale steps, CIFReNet's colour jitter with PIL's
// arithmetic, normalisation, the boundary rule, and complexity maps following the geometry.
#include <cmath>
#include <set>

#include "data/transforms.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::label_values;
using rtseg::testing::make_label;

namespace {

// A w×h sample: image = pattern, label = x + 10y, edge = x % 2, complexity = x + 0.5y.
Sample grid_sample(int w, int h) {
  Sample s;
  s.name = "grid";
  s.image = rtseg::testing::pattern_image(w, h);
  s.label = Label(w, h);
  s.edge = Label(w, h);
  s.complexity = FloatMap(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      s.label.at(x, y) = int16_t(x + 10 * y);
      s.edge.at(x, y) = int16_t(x % 2);
      s.complexity.at(x, y) = float(x) + 0.5f * float(y);
    }
  }
  return s;
}

}  // namespace

TEST_CASE("nearest and bilinear resize follow OpenCV's conventions", "[data][transforms]") {
  // Nearest: source x = floor(x·in/out). 5 → 3: floor(0), floor(5/3) = 1, floor(10/3) = 3.
  const Label row = make_label(5, 1, {0, 1, 2, 3, 4});
  REQUIRE(label_values(resize_nearest(row, 3, 1)) == std::vector<int>{0, 1, 3});
  // 3 → 5: floor(0.6x) = 0, 0, 1, 1, 2.
  REQUIRE(label_values(resize_nearest(make_label(3, 1, {7, 8, 9}), 5, 1)) ==
          std::vector<int>{7, 7, 8, 8, 9});
  // Bilinear 2 → 4 on [0, 100]: source x = (x + 0.5)/2 − 0.5 = −0.25 (clamped), 0.25, 0.75, 1.25
  // (clamped) → 0, 25, 75, 100.
  Image two(2, 1, 1);
  two.pixels = {0, 100};
  REQUIRE(resize_bilinear(two, 4, 1).pixels == std::vector<uint8_t>{0, 25, 75, 100});
  // Shrinking 4 → 2 takes the mean of each pair (source x = 0.5 and 2.5): no antialiasing beyond
  // that.
  Image four(4, 1, 1);
  four.pixels = {0, 10, 20, 40};
  REQUIRE(resize_bilinear(four, 2, 1).pixels == std::vector<uint8_t>{5, 30});
  FloatMap f(2, 1);
  f.values = {0.0f, 1.0f};
  const FloatMap g = resize_bilinear(f, 4, 1);
  REQUIRE(g.values[1] == Approx(0.25f));
  REQUIRE(g.values[2] == Approx(0.75f));
}

TEST_CASE("horizontal flip mirrors image, label, edge and complexity", "[data][transforms]") {
  Sample s = grid_sample(3, 2);
  hflip_sample(s);
  REQUIRE(label_values(s.label) == std::vector<int>{2, 1, 0, 12, 11, 10});
  REQUIRE(label_values(s.edge) == std::vector<int>{0, 1, 0, 0, 1, 0});
  REQUIRE(s.complexity.values == std::vector<float>{2, 1, 0, 2.5f, 1.5f, 0.5f});
  const Image original = rtseg::testing::pattern_image(3, 2);
  for (int c = 0; c < 3; ++c) REQUIRE(s.image.at(0, 1, c) == original.at(2, 1, c));
}

TEST_CASE("padding fills image 0, label 255 (ignore), edge 0 at the bottom/right",
          "[data][transforms]") {
  Sample s = grid_sample(3, 2);
  pad_sample(s, 4, 5);
  REQUIRE(s.image.width == 5);
  REQUIRE(s.image.height == 4);
  REQUIRE(label_values(s.label) == std::vector<int>{0,   1,   2,   255, 255, 10,  11,
                                                    12,  255, 255, 255, 255, 255, 255,
                                                    255, 255, 255, 255, 255, 255});
  REQUIRE(s.edge.at(4, 0) == 0);
  REQUIRE(s.edge.at(1, 1) == 1);
  REQUIRE(s.complexity.at(4, 3) == 0.0f);
  for (int c = 0; c < 3; ++c) {
    REQUIRE(s.image.at(3, 0, c) == 0);
    REQUIRE(s.image.at(0, 3, c) == 0);
  }
  REQUIRE(s.image.at(2, 1, 0) == rtseg::testing::pattern_image(3, 2).at(2, 1, 0));

  // A random pad-crop larger than the sample has a single position: exactly the padded sample.
  Sample t = grid_sample(3, 2);
  Generator gen(1);
  random_crop(4, 5)(t, gen);
  REQUIRE(label_values(t.label) == label_values(s.label));
}

TEST_CASE("crops cut the same window out of every map", "[data][transforms]") {
  Sample s = grid_sample(6, 5);
  crop_sample(s, 2, 1, 3, 2);
  REQUIRE(label_values(s.label) == std::vector<int>{12, 13, 14, 22, 23, 24});
  REQUIRE(s.complexity.values == std::vector<float>{2.5f, 3.5f, 4.5f, 3, 4, 5});
  REQUIRE_THROWS_AS(crop_sample(s, 1, 0, 3, 2), Error);

  // Random crops are uniform over every position, x drawn before y.
  std::set<std::pair<int, int>> seen;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Sample t = grid_sample(6, 5);
    Generator gen(seed);
    random_crop(3, 4)(t, gen);  // 4 wide, 3 high: x in 0..2, y in 0..2
    REQUIRE(t.label.width == 4);
    REQUIRE(t.label.height == 3);
    const int x = t.label.at(0, 0) % 10, y = t.label.at(0, 0) / 10;
    Generator replay(seed);
    REQUIRE(x == replay.randint(3));
    REQUIRE(y == replay.randint(3));
    seen.insert({x, y});
  }
  REQUIRE(seen.size() == 9);

  // CIFReNet's crop resizes a too-small sample up to the crop instead of padding.
  Sample u = grid_sample(3, 2);
  Generator gen(3);
  random_crop(4, 6, CropMode::ResizeUp)(u, gen);
  REQUIRE(u.label.width == 6);
  REQUIRE(u.label.height == 4);
  REQUIRE(label_values(u.label) == label_values(resize_nearest(grid_sample(3, 2).label, 6, 4)));
}

TEST_CASE("PIDNet's multi-scale: long side round(base · (0.5 + k/10)), k in 0..16",
          "[data][transforms]") {
  // base 100 on a 40×30 image: k = 0 → long 50, short int(30·50/40 + 0.5) = int(38.0) = 38.
  std::set<std::pair<int, int>> sizes;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Sample s = grid_sample(40, 30);
    Generator gen(seed);
    random_scale_steps(100)(s, gen);
    Generator replay(seed);
    const int k = int(replay.randint(17));
    const int long_side = int(100 * (0.5 + k / 10.0) + 0.5);
    REQUIRE(s.image.width == long_side);
    REQUIRE(s.image.height == int(30.0 * long_side / 40 + 0.5));
    REQUIRE(s.label.width == s.image.width);
    sizes.insert({s.image.width, s.image.height});
  }
  REQUIRE(sizes.size() == 17);
  REQUIRE(sizes.count({50, 38}) == 1);    // k = 0
  REQUIRE(sizes.count({210, 158}) == 1);  // k = 16: 30·210/40 = 157.5 → 158
  // Portrait images scale their height to the long side.
  Sample p = grid_sample(30, 40);
  Generator gen(0);
  random_scale_steps(100)(p, gen);
  REQUIRE(p.image.height > p.image.width);

  // CIFReNet's RandomSized: both sides × U(0.5, 1.5), truncated.
  Sample c = grid_sample(40, 30);
  Generator g2(9), replay(9);
  random_scale_uniform(0.5, 1.5)(c, g2);
  const double scale = 0.5 + replay.uniform();
  REQUIRE(c.image.width == int(scale * 40));
  REQUIRE(c.image.height == int(scale * 30));
}

TEST_CASE("the fused scale-and-crop equals scale, pad and crop done one after the other",
          "[data][transforms]") {
  // Random draws and pixels both match, over every scale step and crop position, with padding.
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Sample a = grid_sample(40, 30), b = a;
    for (int16_t& v : a.label.values) v = int16_t(v % 200);
    b.label = a.label;
    Generator ga(seed), gb(seed);
    random_scale_crop(60, 28, 36)(a, ga);
    random_scale_steps(60)(b, gb);
    random_crop(28, 36)(b, gb);
    INFO("seed " << seed);
    REQUIRE(a.image.width == 36);
    REQUIRE(a.image.pixels == b.image.pixels);
    REQUIRE(a.label.values == b.label.values);
    REQUIRE(a.edge.values == b.edge.values);
    REQUIRE(a.complexity.values == b.complexity.values);
    REQUIRE(ga.next_u64() == gb.next_u64());
  }
  // The window may reach past the resized image only where padding is needed.
  Sample s = grid_sample(4, 3);
  REQUIRE_THROWS_AS(resize_crop_sample(s, 8, 6, 1, 0, 8, 6), Error);
}

TEST_CASE("rotation: exact quarter turns, ignored corners, identity at 0", "[data][transforms]") {
  // 90° counter-clockwise on a 4×4 grid: out(x, y) = in(3 − y, x) (top-right goes to top-left).
  Sample s = grid_sample(4, 4);
  rotate_sample(s, 90.0);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      INFO("x " << x << " y " << y);
      REQUIRE(s.label.at(x, y) == (3 - y) + 10 * x);
      REQUIRE(s.image.at(x, y, 0) == rtseg::testing::pattern_image(4, 4).at(3 - y, x, 0));
    }
  }
  Sample same = grid_sample(7, 5);
  rotate_sample(same, 0.0);
  REQUIRE(label_values(same.label) == label_values(grid_sample(7, 5).label));
  REQUIRE(same.image.pixels == grid_sample(7, 5).image.pixels);

  // A small rotation leaves the corners without a source: label → ignore, image → 0, edge → 0.
  Sample r;
  r.image = Image(40, 20, 3, 77);
  r.label = Label(40, 20, 3);
  r.edge = Label(40, 20, 1);
  rotate_sample(r, 10.0);
  for (auto [x, y] : std::vector<std::pair<int, int>>{{0, 0}, {39, 0}, {0, 19}, {39, 19}}) {
    REQUIRE(r.label.at(x, y) == 255);
    REQUIRE(r.edge.at(x, y) == 0);
    REQUIRE(r.image.at(x, y, 1) == 0);
  }
  REQUIRE(r.label.at(20, 10) == 3);
  REQUIRE(r.image.at(20, 10, 0) == 77);
  // CIFReNet's code fills label corners with 0 (a quirk): available as an option.
  Sample q;
  q.image = Image(40, 20, 3, 77);
  q.label = Label(40, 20, 3);
  Fill zero;
  zero.label = 0;
  rotate_sample(q, -10.0, zero);
  REQUIRE(q.label.at(0, 0) == 0);
  REQUIRE(q.label.at(20, 10) == 3);
}

TEST_CASE("CIFReNet's colour jitter uses PIL's arithmetic", "[data][transforms]") {
  Image img(3, 1, 3);
  img.pixels = {0, 128, 255, 200, 100, 50, 255, 0, 0};
  Image g = img;
  adjust_gamma(g, 1.0);  // floor(255.999·v/255) = v
  REQUIRE(g.pixels == img.pixels);
  adjust_gamma(
      g,
      2.0);  // 128 → floor(255.999 · (128/255)²) = floor(64.50) = 64; 200 → 157; 100 → 39; 50 → 9
  REQUIRE(g.pixels == std::vector<uint8_t>{0, 64, 255, 157, 39, 9, 255, 0, 0});

  // Luma (19595R + 38470G + 7471B + 2^15) >> 16: (255,0,0) → 76, (200,100,50) → 124.
  REQUIRE(pil_luma(255, 0, 0) == 76);
  REQUIRE(pil_luma(200, 100, 50) == 124);
  Image s = img;
  adjust_saturation(s, 0.0);  // gray
  REQUIRE(s.at(2, 0, 0) == 76);
  REQUIRE(s.at(2, 0, 1) == 76);
  s = img;
  adjust_saturation(s, 2.0);  // 124 + 2(200 − 124) = 276 → 255; 124 − 48 = 76; 124 − 148 → 0
  REQUIRE(s.at(1, 0, 0) == 255);
  REQUIRE(s.at(1, 0, 1) == 76);
  REQUIRE(s.at(1, 0, 2) == 0);
  s = img;
  adjust_saturation(s, 1.0);
  REQUIRE(s.pixels == img.pixels);

  // Contrast blends with the rounded mean luma: black + white → mean 127.5 → 128;
  // factor 0.5: 128 − 64 = 64 and trunc(128 + 63.5) = 191.
  Image bw(2, 1, 3);
  bw.pixels = {0, 0, 0, 255, 255, 255};
  adjust_contrast(bw, 0.5);
  REQUIRE(bw.pixels == std::vector<uint8_t>{64, 64, 64, 191, 191, 191});

  // The random jitter draws gamma, saturation, contrast in that order from the Generator.
  Image a = rtseg::testing::pattern_image(6, 4), b = a;
  Sample sa;
  sa.image = a;
  Generator gen(5), replay(5);
  colour_jitter(0.2, 0.2, 0.2)(sa, gen);
  adjust_gamma(b, 1.0 + 0.2 * replay.uniform());
  adjust_saturation(b, 0.8 + 0.4 * replay.uniform());
  adjust_contrast(b, 0.8 + 0.4 * replay.uniform());
  REQUIRE(sa.image.pixels == b.pixels);
}

TEST_CASE("normalisation: ImageNet RGB and CIFReNet's BGR mean subtraction", "[data][transforms]") {
  Image px(2, 1, 3);
  px.pixels = {255, 0, 128, 0, 0, 0};
  const Tensor t = to_tensor(px, Normalization::ImageNet);
  REQUIRE(t.shape() == Shape{3, 1, 2});
  // (1 − 0.485)/0.229, (0 − 0.456)/0.224, (128/255 − 0.406)/0.225, then pixel 2's planes.
  rtseg::testing::require_values(
      t, {2.2489083, -2.1179039, -2.0357143, -2.0357143, 0.4264924, -1.8044444}, 1e-5);
  // CIFReNet: planes B, G, R; (v − (73.16, 82.91, 72.39))/255.
  const Tensor c = to_tensor(px, Normalization::CifrenetBGR);
  rtseg::testing::require_values(c,
                                 {(128 - 73.16) / 255, -73.16 / 255, -82.91 / 255, -82.91 / 255,
                                  (255 - 72.39) / 255, -72.39 / 255},
                                 1e-6);
  rtseg::testing::require_values(to_tensor(px, Normalization::Unit), {1, 0, 0, 0, 128 / 255.0, 0},
                                 1e-6);
}

TEST_CASE("boundary maps follow the label-difference rule with OpenCV's 4×4 anchor",
          "[data][transforms][boundary]") {
  // Two halves: seeds at x = 3 (its right neighbour differs), dilated to columns 2..5.
  std::vector<int> halves;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 8; ++x) halves.push_back(x < 4 ? 0 : 1);
  }
  const Label e = boundary_map(make_label(8, 4, halves));
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 8; ++x) REQUIRE(e.at(x, y) == (x >= 2 && x <= 5 ? 1 : 0));
  }
  // One odd pixel at (3, 3) in 8×8: seeds (3,3), (2,3) (right neighbour differs), (3,2) (lower
  // neighbour differs); each seed (sx, sy) marks x in sx−1..sx+2 and y in sy−1..sy+2.
  std::vector<int> dot(64, 0);
  dot[3 * 8 + 3] = 1;
  const Label d = boundary_map(make_label(8, 8, dot));
  const std::vector<int> expected = {0, 0, 0, 0, 0, 0, 0, 0,  //
                                     0, 0, 1, 1, 1, 1, 0, 0,  // y 1: from seed (3,2)
                                     0, 1, 1, 1, 1, 1, 0, 0,  // y 2..4: all three
                                     0, 1, 1, 1, 1, 1, 0, 0,  //
                                     0, 1, 1, 1, 1, 1, 0, 0,  //
                                     0, 1, 1, 1, 1, 1, 0, 0,  // y 5: seeds (3,3) and (2,3)
                                     0, 0, 0, 0, 0, 0, 0, 0,  //
                                     0, 0, 0, 0, 0, 0, 0, 0};
  REQUIRE(label_values(d) == expected);
  // The ignore value is a label like any other.
  REQUIRE(boundary_map(make_label(4, 1, {0, 0, 255, 255})).at(0, 0) == 1);

  // Cityscapes' 6-pixel frame: a boundary at x = 3|4 vanishes; one at x = 9|10 keeps the seeds
  // of rows 6..13 only, which dilate to rows 5..15 and columns 8..11.
  auto vertical = [](int split) {
    std::vector<int> v;
    for (int y = 0; y < 20; ++y) {
      for (int x = 0; x < 20; ++x) v.push_back(x <= split ? 0 : 1);
    }
    return make_label(20, 20, v);
  };
  const Label near_border = boundary_map(vertical(3), 6);
  REQUIRE(std::count(near_border.values.begin(), near_border.values.end(), 1) == 0);
  REQUIRE(std::count(boundary_map(vertical(3)).values.begin(),
                     boundary_map(vertical(3)).values.end(), 1) > 0);
  const Label inner = boundary_map(vertical(9), 6);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 20; ++x) {
      INFO("x " << x << " y " << y);
      REQUIRE(inner.at(x, y) == (x >= 8 && x <= 11 && y >= 5 && y <= 15 ? 1 : 0));
    }
  }
}

TEST_CASE("complexity maps follow scale, crop, flip and rotation", "[data][transforms]") {
  Sample s = grid_sample(8, 6);
  resize_sample(s, 16, 12);
  // Bilinear like the image: x' = (x + 0.5)/2 − 0.5; at x = 5 → 2.25, y = 7 → 3.25: 2.25 +
  // 0.5·3.25.
  REQUIRE(s.complexity.at(5, 7) == Approx(2.25 + 0.5 * 3.25));
  crop_sample(s, 4, 2, 8, 8);
  REQUIRE(s.complexity.at(1, 5) == Approx(2.25 + 0.5 * 3.25));
  hflip_sample(s);
  REQUIRE(s.complexity.at(6, 5) == Approx(2.25 + 0.5 * 3.25));
  Sample r = grid_sample(4, 4);
  rotate_sample(r, 90.0);
  REQUIRE(r.complexity.at(1, 2) == Approx((3 - 2) + 0.5 * 1));  // in(3 − y, x) = in(1, 1)
}

TEST_CASE("pipelines are deterministic per Generator state and keep maps aligned",
          "[data][transforms]") {
  // base 40: scales 0.5 … 2.1 give long sides 20 … 84, so some samples need padding to 32×24.
  const Pipeline pid = pidnet_train_pipeline(40, 24, 32, 0);
  int padded = 0;
  REQUIRE(pid.names() == std::vector<std::string>{"boundary", "multi_scale_pad_crop", "hflip"});
  Sample base = grid_sample(40, 30);
  for (int16_t& v : base.label.values) v = int16_t(v % 19);  // no 255 among the real labels
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Sample a = base, b = base;
    Generator ga(seed), gb(seed);
    pid.apply(a, ga);
    pid.apply(b, gb);
    REQUIRE(a.image.pixels == b.image.pixels);
    REQUIRE(a.label.values == b.label.values);
    REQUIRE(a.image.width == 32);
    REQUIRE(a.image.height == 24);
    REQUIRE(a.edge.width == 32);
    // Wherever the label is padding, the edge is 0 and the image is 0.
    for (int y = 0; y < 24; ++y) {
      for (int x = 0; x < 32; ++x) {
        if (a.label.at(x, y) == 255) {
          ++padded;
          REQUIRE(a.edge.at(x, y) == 0);
          REQUIRE(a.image.at(x, y, 0) == 0);
        }
      }
    }
  }
  REQUIRE(padded > 0);
  const Pipeline cif = cifrenet_train_pipeline(16, 24);
  Sample c = base;
  Generator gc(3);
  cif.apply(c, gc);
  REQUIRE(c.image.width == 24);
  REQUIRE(c.image.height == 16);
}
