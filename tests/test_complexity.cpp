// Complexity pseudo-label sources (data/complexity.h): the analytic proxy's values by hand and its
// properties (flat → 0, textured → high, local, follows flips), the precomputed PNG maps (round
// trip, errors naming the file, attached by name, following crop, pad and flip exactly, reaching
// the batch), and the source chosen by name (teacher function, precomputed, proxy, describe()).
#include <cmath>
#include <memory>

#include "data/complexity.h"
#include "data/geometry.h"
#include "data/transforms.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::require_close;
using rtseg::testing::require_error;
using rtseg::testing::require_values;
using rtseg::testing::TempDir;

namespace {

// N×C×H×W mirrored left-right.
Tensor hflip(const Tensor& x) {
  const int64_t w = x.size(3), rows = x.numel() / w;
  const std::vector<double> v = x.to_doubles();
  std::vector<double> out(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < w; ++i) out[size_t(r * w + i)] = v[size_t(r * w + (w - 1 - i))];
  }
  return Tensor::from_doubles(out, x.shape(), x.dtype());
}

// A small in-memory dataset: image `pattern_image`, label (x + 7y) mod 200, name "img<i>".
class MemoryDataset : public Dataset {
 public:
  MemoryDataset(int w, int h, size_t n) : w_(w), h_(h), n_(n) {
    info_.name = "memory";
    info_.class_names.assign(200, "c");
  }
  size_t size() const override { return n_; }
  Sample get(size_t index) const override {
    Sample s;
    s.image = testing::pattern_image(w_, h_);
    s.label = Label(w_, h_);
    for (int y = 0; y < h_; ++y) {
      for (int x = 0; x < w_; ++x) s.label.at(x, y) = int16_t((x + 7 * y + int(index)) % 200);
    }
    s.name = "img" + std::to_string(index);
    return s;
  }

 private:
  int w_, h_;
  size_t n_;
};

// Writes complexity PNGs into <dir>/maps whose value is the sample's label value, so that after
// any crop/flip the map must read back label/255 at every pixel. Returns the folder.
std::string write_label_maps(const TempDir& dir, const Dataset& ds) {
  const std::string folder = dir.root() + "/maps";
  std::filesystem::create_directories(folder);
  for (size_t i = 0; i < ds.size(); ++i) {
    const Sample s = ds.get(i);
    FloatMap m(s.label.width, s.label.height);
    for (size_t k = 0; k < m.values.size(); ++k) m.values[k] = float(s.label.values[k]) / 255.0f;
    write_complexity_png(complexity_map_path(folder, s.name), m);
  }
  return folder;
}

}  // namespace

TEST_CASE("proxy_complexity by hand: a ramp has RMS gradient g everywhere, c = g/(g + knee)",
          "[complexity]") {
  // Two channels, ramps 0,1,2 and 0,3,6 along x: the channel mean is 0,2,4, so ∂x = 2 at every
  // pixel (central inside, one-sided at the ends) and ∂y = 0 (one row).
  const Tensor x = Tensor::from_doubles({0, 1, 2, 0, 3, 6}, {1, 2, 1, 3}, DType::F64);
  ProxyOptions o;
  o.radius = 1;
  const Tensor c = proxy_complexity(x, o);
  REQUIRE(c.shape() == Shape{1, 1, 1, 3});
  REQUIRE(c.dtype() == DType::F64);
  require_values(c, {2 / 2.1, 2 / 2.1, 2 / 2.1}, 1e-15);
  // The knee sets the half-way point.
  o.knee = 2.0;
  require_values(proxy_complexity(x, o), {0.5, 0.5, 0.5}, 1e-15);
  // A step 0,0,3 (one channel), radius 1: ∂x = 0, 1.5, 3 → energies 0, 2.25, 9; box means over
  // the clipped windows: (0 + 2.25)/2, (0 + 2.25 + 9)/3, (2.25 + 9)/2.
  const Tensor step = Tensor::from_doubles({0, 0, 3}, {1, 1, 1, 3}, DType::F64);
  o.knee = 1.0;
  const double e0 = 2.25 / 2, e1 = 11.25 / 3, e2 = 11.25 / 2;
  auto c_of = [](double e) { return std::sqrt(e) / (std::sqrt(e) + 1.0); };
  require_values(proxy_complexity(step, o), {c_of(e0), c_of(e1), c_of(e2)}, 1e-15);
}

TEST_CASE("proxy_complexity: flat → 0, textured → high, and it stays local", "[complexity]") {
  Generator gen(3);
  const Tensor flat = Tensor::full({2, 3, 24, 32}, -0.7);
  for (double v : proxy_complexity(flat).to_doubles()) REQUIRE(v == 0.0);
  // Texture of ±1 (normalised units) on every pixel: high everywhere.
  const Tensor noise = rand_uniform({1, 3, 24, 32}, -1, 1, gen);
  for (double v : proxy_complexity(noise).to_doubles()) REQUIRE(v > 0.6);
  // Left half flat, right half textured: low on the left, high on the right, away from the seam
  // by more than the box radius (auto: 24/32 → 1).
  std::vector<double> half(3 * 24 * 32, 0.2);
  const std::vector<double> nv = noise.to_doubles();
  for (size_t ch = 0; ch < 3; ++ch)
    for (size_t y = 0; y < 24; ++y)
      for (size_t x = 16; x < 32; ++x) half[(ch * 24 + y) * 32 + x] = nv[(ch * 24 + y) * 32 + x];
  const std::vector<double> c =
      proxy_complexity(Tensor::from_doubles(half, {1, 3, 24, 32})).to_doubles();
  for (size_t y = 0; y < 24; ++y) {
    for (size_t x = 0; x < 13; ++x) REQUIRE(c[y * 32 + x] == 0.0);
    for (size_t x = 19; x < 32; ++x) REQUIRE(c[y * 32 + x] > 0.6);
  }
}

TEST_CASE("proxy_complexity follows horizontal flips and keeps the image's size", "[complexity]") {
  Generator gen(9);
  const Tensor x = rand_normal({2, 3, 17, 23}, 0, 1, gen, DType::F64);
  for (int radius : {0, 1, 3}) {
    ProxyOptions o;
    o.radius = radius;
    const Tensor c = proxy_complexity(x, o);
    REQUIRE(c.shape() == Shape{2, 1, 17, 23});
    require_close(proxy_complexity(hflip(x), o), hflip(c), 0, 1e-12);
  }
  // A different radius gives a different map (the option is used).
  ProxyOptions wide;
  wide.radius = 4;
  REQUIRE(testing::closeness(proxy_complexity(x, wide), proxy_complexity(x), 0, 1e-6) > 1.0);
  require_error(
      [] {
        proxy_complexity(Tensor::zeros({3, 8, 8}));
      },
      "proxy_complexity: images must be N×C×H×W");
  ProxyOptions bad;
  bad.knee = 0;
  require_error([&] { proxy_complexity(x, bad); },
                "proxy_complexity: radius must be ≥ 0 and knee > 0");
}

TEST_CASE("complexity PNGs: value/255 round trip, and wrong files are refused by name",
          "[complexity]") {
  TempDir dir;
  FloatMap m(4, 2);
  for (size_t i = 0; i < m.values.size(); ++i) m.values[i] = float(i * 31) / 255.0f;
  m.values[7] = 1.7f;  // clamped to 1
  const std::string path = complexity_map_path(dir.root(), "a");
  REQUIRE(path == dir.root() + "/a.png");
  write_complexity_png(path, m);
  const FloatMap back = read_complexity_png(path);
  REQUIRE(back.width == 4);
  REQUIRE(back.height == 2);
  for (size_t i = 0; i < 7; ++i) REQUIRE(back.values[i] == float(i * 31) / 255.0f);
  REQUIRE(back.values[7] == 1.0f);

  try {
    read_complexity_png(dir.root() + "/missing.png");
    FAIL("no error");
  } catch (const DataError& e) {
    REQUIRE(e.kind() == DataErrorKind::MissingFile);
    REQUIRE(std::string(e.what()).find("missing.png") != std::string::npos);
  }
  // 16-bit gray and RGB files are another producer's format: refused, not rescaled.
  write_label_png(dir.path("wide.png"), testing::make_label(2, 1, {0, 1000}), 16);
  require_error([&] { read_complexity_png(dir.path("wide.png")); }, "must be 8-bit gray PNGs");
  write_png(dir.path("rgb.png"), testing::pattern_image(2, 2));
  require_error([&] { read_complexity_png(dir.path("rgb.png")); }, "must be 8-bit gray PNGs");
  dir.write_text("text.png", "not a png");
  require_error([&] { read_complexity_png(dir.path("text.png")); },
                "complexity maps must be 8-bit gray PNG files");
}

TEST_CASE("precomputed maps attach by sample name and must match the image size", "[complexity]") {
  TempDir dir;
  auto base = std::make_shared<MemoryDataset>(9, 6, 2);
  const std::string folder = write_label_maps(dir, *base);
  ComplexityFolderDataset ds(base, folder);
  REQUIRE(ds.size() == 2);
  REQUIRE(ds.num_classes() == 200);
  const Sample s = ds.get(1);
  REQUIRE(s.complexity.width == 9);
  REQUIRE(s.complexity.height == 6);
  for (size_t i = 0; i < s.label.values.size(); ++i) {
    REQUIRE(s.complexity.values[i] == float(s.label.values[i]) / 255.0f);
  }
  REQUIRE(ds.describe(0).find("maps") != std::string::npos);
  // A map of another size is a SizeMismatch naming the file and the image.
  write_complexity_png(complexity_map_path(folder, "img0"), FloatMap(5, 5));
  try {
    ds.get(0);
    FAIL("no error");
  } catch (const DataError& e) {
    REQUIRE(e.kind() == DataErrorKind::SizeMismatch);
    REQUIRE(std::string(e.what()).find("img0.png: complexity map is 5×5 but image 'img0' is 9×6") !=
            std::string::npos);
  }
}

TEST_CASE("precomputed maps follow crop, pad and flip exactly, and reach the batch",
          "[complexity]") {
  TempDir dir;
  auto base = std::make_shared<MemoryDataset>(20, 12, 3);
  ComplexityConfig config;
  config.source = "precomputed";
  config.folder = write_label_maps(dir, *base);
  const ComplexitySource source(config);
  const std::shared_ptr<const Dataset> ds = source.wrap_dataset(base);
  // Crop 16 high × 10 wide: pads the 12 rows to 16 (label 255, complexity 0) and crops; flips.
  Pipeline pipeline;
  pipeline.add("crop", random_crop(16, 10)).add("flip", random_hflip(0.5));
  int flipped = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Sample s = ds->get(seed % 3);
    Generator gen(seed);
    pipeline.apply(s, gen);
    REQUIRE(s.complexity.width == 10);
    REQUIRE(s.complexity.height == 16);
    for (size_t i = 0; i < s.label.values.size(); ++i) {
      const int v = s.label.values[i];
      REQUIRE(s.complexity.values[i] == (v == 255 ? 0.0f : float(v) / 255.0f));
    }
    // Label (x + 7y + index) mod 200 increases to the right unless the sample was mirrored.
    flipped += s.label.at(0, 0) > s.label.at(1, 0);
  }
  REQUIRE(flipped > 0);
  REQUIRE(flipped < 8);
  // Through the loader's collate the maps become Batch::complexity, which the source hands out.
  std::vector<Sample> samples;
  for (size_t i = 0; i < 2; ++i) samples.push_back(load_sample(*ds, pipeline, i, 5, 0));
  const Batch batch = collate(samples, Normalization::ImageNet, ds->info(), false);
  REQUIRE(batch.complexity.shape() == Shape{2, 1, 16, 10});
  const Tensor maps = source.maps(batch);
  require_close(maps, batch.complexity, 0, 0);
  const std::vector<int64_t> labels = batch.labels.to_vector<int64_t>();
  const std::vector<double> mv = maps.to_doubles();
  for (size_t i = 0; i < labels.size(); ++i) {
    REQUIRE(mv[i] == (labels[i] == 255 ? 0.0 : double(float(labels[i]) / 255.0f)));
  }
}

TEST_CASE("ComplexitySource picks teacher, precomputed or proxy by name", "[complexity]") {
  REQUIRE(parse_complexity_source("teacher") == ComplexitySourceKind::Teacher);
  REQUIRE(parse_complexity_source("precomputed") == ComplexitySourceKind::Precomputed);
  REQUIRE(parse_complexity_source("proxy") == ComplexitySourceKind::Proxy);
  REQUIRE(std::string(complexity_source_name(ComplexitySourceKind::Proxy)) == "proxy");
  require_error([] { parse_complexity_source("icnet"); },
                "complexity source 'icnet' is unknown; choose teacher, precomputed or proxy");
  require_error([] { ComplexitySource s(ComplexityConfig{}); },
                "complexity source 'teacher' needs a function");
  require_error(
      [] {
        ComplexitySource s(ComplexityConfig{"precomputed", "", {}});
      },
      "complexity source 'precomputed' needs the folder");

  Generator gen(1);
  Batch batch;
  batch.images = rand_normal({2, 3, 8, 12}, 0, 1, gen);
  batch.number = 4;

  // Teacher: the function sees the batch's images; its maps are returned as float32.
  int calls = 0;
  ComplexitySource teacher(ComplexityConfig{}, [&](const Tensor& images) {
    ++calls;
    REQUIRE(images.shape() == Shape{2, 3, 8, 12});
    return Tensor::full({2, 1, 8, 12}, 0.25, DType::F64);
  });
  const Tensor t = teacher.maps(batch);
  REQUIRE(calls == 1);
  REQUIRE(t.dtype() == DType::F32);
  REQUIRE(t.to_doubles().front() == 0.25);
  REQUIRE(teacher.describe().find("IC9600 ICNet") != std::string::npos);
  ComplexitySource wrong(ComplexityConfig{}, [](const Tensor&) {
    return Tensor::zeros({2, 1, 4, 6});
  });
  require_error([&] { wrong.maps(batch); },
                "complexity source 'teacher': maps must be [2, 1, 8, 12]");

  // Proxy: the proxy of the batch's images; describe() says it is an approximation.
  ComplexityConfig pc;
  pc.source = "proxy";
  const ComplexitySource proxy(pc);
  require_close(proxy.maps(batch), proxy_complexity(batch.images), 0, 0);
  REQUIRE(proxy.describe().find("APPROXIMATION") != std::string::npos);
  REQUIRE(proxy.describe().find("radius auto") != std::string::npos);
  auto base = std::make_shared<MemoryDataset>(4, 4, 1);
  REQUIRE(proxy.wrap_dataset(base) == base);

  // Precomputed: the batch must carry maps.
  const ComplexitySource pre(ComplexityConfig{"precomputed", "/maps", {}});
  require_error([&] { pre.maps(batch); },
                "complexity source 'precomputed': batch 4 carries no complexity maps");
  REQUIRE(pre.describe().find("/maps/<name>.png") != std::string::npos);
  REQUIRE(dynamic_cast<const ComplexityFolderDataset*>(pre.wrap_dataset(base).get()) != nullptr);
}

TEST_CASE("the proxy's maps attached to the host batch equal the ones computed from it later",
          "[complexity]") {
  Generator gen(2);
  Batch host;
  host.images = rand_normal({2, 3, 8, 12}, 0, 1, gen);
  ComplexitySource proxy(ComplexityConfig{"proxy", "", {}});
  const Tensor later = proxy.maps(host);  // no maps attached: computed from the images
  Batch prepared = host;
  proxy.attach_host_maps(prepared);
  REQUIRE(prepared.complexity.defined());
  REQUIRE(prepared.complexity.to_doubles() == later.to_doubles());
  REQUIRE(proxy.maps(prepared).to_doubles() == later.to_doubles());
  // Other sources leave the batch as it is.
  ComplexitySource teacher(ComplexityConfig{}, [](const Tensor& x) { return x; });
  Batch untouched = host;
  teacher.attach_host_maps(untouched);
  REQUIRE_FALSE(untouched.complexity.defined());
}
