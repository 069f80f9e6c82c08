// The synthetic street scenes (deterministic, class coverage, colour not informative) and the
// loader: identical batches with 0, 1 and 3 workers, per-epoch shuffles, collation, errors from
// workers naming the file, clean shutdown mid-epoch, and the throughput helper.
#include <set>

#include "data/list_dataset.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::require_data_error;
using rtseg::testing::TempDir;

namespace {

std::shared_ptr<SyntheticStreetDataset> synthetic(size_t n, int w, int h, uint64_t seed = 11,
                                                  bool complexity = false) {
  SyntheticOptions o;
  o.size = n;
  o.width = w;
  o.height = h;
  o.seed = seed;
  o.complexity = complexity;
  return std::make_shared<SyntheticStreetDataset>(o);
}

std::vector<Batch> all_batches(DataLoader& loader, int64_t epoch) {
  std::vector<Batch> out;
  loader.start_epoch(epoch);
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("synthetic scenes are deterministic per (seed, index) at any size", "[data][synthetic]") {
  auto a = synthetic(50, 96, 64), b = synthetic(50, 96, 64), other_seed = synthetic(50, 96, 64, 12);
  const Sample s3 = a->get(3);
  REQUIRE(s3.image.pixels == b->get(3).image.pixels);
  REQUIRE(s3.label.values == b->get(3).label.values);
  REQUIRE(s3.image.pixels != a->get(4).image.pixels);
  REQUIRE(s3.label.values != other_seed->get(3).label.values);
  REQUIRE(s3.name == "synthetic_000003");
  REQUIRE(a->num_classes() == 19);
  REQUIRE(a->class_names()[13] == "car");
  const Sample odd = synthetic(1, 37, 23)->get(0);
  REQUIRE(odd.image.width == 37);
  REQUIRE(odd.label.height == 23);
  REQUIRE_THROWS_AS(synthetic(1, 4, 4), Error);
}

TEST_CASE("synthetic scenes cover the classes and colour does not tell them apart",
          "[data][synthetic]") {
  auto ds = synthetic(40, 160, 96, 5);
  std::vector<uint64_t> pixels(19, 0);
  // Mean red value of the road and of the sky in each scene: both must vary widely.
  std::vector<double> road_red, sky_red;
  for (size_t i = 0; i < ds->size(); ++i) {
    const Sample s = ds->get(i);
    double road = 0, sky = 0;
    int nroad = 0, nsky = 0;
    for (size_t k = 0; k < s.label.values.size(); ++k) {
      const int v = s.label.values[k];
      REQUIRE(v >= 0);
      REQUIRE(v < 19);  // every pixel is labelled
      ++pixels[size_t(v)];
      if (v == 0) road += s.image.pixels[3 * k], ++nroad;
      if (v == 10) sky += s.image.pixels[3 * k], ++nsky;
    }
    if (nroad) road_red.push_back(road / nroad);
    if (nsky) sky_red.push_back(sky / nsky);
  }
  int present = 0;
  for (uint64_t n : pixels) present += n > 0;
  INFO("classes present: " << present);
  REQUIRE(present >= 17);
  auto stdev = [](const std::vector<double>& v) {
    double m = 0, q = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) q += (x - m) * (x - m);
    return std::sqrt(q / double(v.size()));
  };
  REQUIRE(road_red.size() > 30);
  REQUIRE(stdev(road_red) > 30.0);
  REQUIRE(stdev(sky_red) > 30.0);
  // Road and sky are the big classes, as in Cityscapes.
  REQUIRE(pixels[0] > pixels[13]);
  REQUIRE(pixels[10] > pixels[11]);
}

TEST_CASE("the loader gives the same batches with 0, 1 and 3 workers", "[data][loader]") {
  auto ds = synthetic(10, 64, 48);
  LoaderOptions o;
  o.batch_size = 3;
  o.seed = 99;
  std::vector<std::vector<Batch>> runs;
  for (int workers : {0, 1, 3}) {
    o.workers = workers;
    DataLoader loader(ds, pidnet_train_pipeline(64, 32, 40, 0), o);
    REQUIRE(loader.batches_per_epoch() == 3);  // 10 samples, drop_last
    runs.push_back(all_batches(loader, 0));
  }
  for (const auto& run : runs) {
    REQUIRE(run.size() == 3);
    for (size_t b = 0; b < 3; ++b) {
      const Batch& x = run[b];
      const Batch& ref = runs[0][b];
      REQUIRE(x.number == b);
      REQUIRE(x.indices == ref.indices);
      REQUIRE(x.images.shape() == Shape{3, 3, 32, 40});
      REQUIRE(x.images.dtype() == DType::F32);
      REQUIRE(x.labels.shape() == Shape{3, 32, 40});
      REQUIRE(x.labels.dtype() == DType::I64);
      REQUIRE(x.boundary.shape() == Shape{3, 1, 32, 40});
      REQUIRE_FALSE(x.complexity.defined());
      REQUIRE(x.images.to_vector<float>() == ref.images.to_vector<float>());
      REQUIRE(x.labels.to_vector<int64_t>() == ref.labels.to_vector<int64_t>());
      REQUIRE(x.boundary.to_vector<float>() == ref.boundary.to_vector<float>());
    }
  }
  // One epoch visits distinct samples; the next epoch shuffles differently.
  DataLoader loader(ds, Pipeline(), o);
  std::set<size_t> seen;
  for (const Batch& b : all_batches(loader, 0)) seen.insert(b.indices.begin(), b.indices.end());
  REQUIRE(seen.size() == 9);
  REQUIRE(loader.epoch_order(0) != loader.epoch_order(1));
  REQUIRE(loader.epoch_order(0) == DataLoader(ds, Pipeline(), o).epoch_order(0));
  // The same sample gets a different augmentation in another epoch.
  REQUIRE(sample_seed(99, 0, 4) != sample_seed(99, 1, 4));
}

TEST_CASE("loader options: order, last batch, complexity maps, prefetch bound", "[data][loader]") {
  auto ds = synthetic(7, 40, 24, 3, true);
  LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  o.drop_last = false;
  o.workers = 2;
  o.prefetch = 1;
  o.normalization = Normalization::Unit;
  DataLoader loader(ds, Pipeline().add("flip", random_hflip(0.5)), o);
  const std::vector<Batch> batches = all_batches(loader, 0);
  REQUIRE(batches.size() == 3);
  REQUIRE(batches[0].indices == std::vector<size_t>{0, 1, 2});
  REQUIRE(batches[2].indices == std::vector<size_t>{6});
  REQUIRE(batches[2].images.shape() == Shape{1, 3, 24, 40});
  REQUIRE(batches[0].complexity.shape() == Shape{3, 1, 24, 40});
  REQUIRE_FALSE(batches[0].boundary.defined());
  // The flips of the complexity map match those of the label: rebuild sample 1 by hand.
  Sample s = load_sample(*ds, Pipeline().add("flip", random_hflip(0.5)), 1, o.seed, 0);
  const std::vector<float> c = batches[0].complexity.to_vector<float>();
  const size_t hw = 40 * 24;
  REQUIRE(std::vector<float>(c.begin() + hw, c.begin() + 2 * hw) == s.complexity.values);
  const std::vector<float> img = batches[0].images.to_vector<float>();
  REQUIRE(img[3 * hw] ==
          Approx(s.image.pixels[0] / 255.0f));  // Unit normalisation, sample 1, R at (0, 0)
}

TEST_CASE("a bad label value is reported at its pixel in the file, before augmentation moves it",
          "[data][loader][errors]") {
  TempDir dir;
  write_png(dir.path("img/a.png"), rtseg::testing::pattern_image(6, 4));
  Label label(6, 4, 1);
  label.values[1 * 6 + 5] = 7;  // (x 5, y 1)
  write_label_png(dir.path("lbl/bad.png"), label);
  dir.write_text("list.txt", "# header\nimg/a.png lbl/bad.png\n");
  ListDatasetOptions lo;
  lo.root = dir.root();
  lo.list_file = "list.txt";
  lo.info.class_names = {"x", "y", "z"};
  LoaderOptions o;
  o.batch_size = 1;
  o.workers = 0;
  // A certain mirror and a crop: after them the pixel would be elsewhere.
  DataLoader loader(std::make_shared<ListDataset>(lo),
                    Pipeline().add("flip", random_hflip(1.0)).add("crop", random_crop(3, 4)), o);
  loader.start_epoch(0);
  Batch b;
  require_data_error([&] { loader.next(b); }, DataErrorKind::Value,
                     {"list.txt:2: img/a.png lbl/bad.png",
                      "label value 7 at pixel (x 5, y 1) of the 6x4 label map", "0..2"});
}

TEST_CASE("loader errors name the batch, the sample and the file; shutdown is clean",
          "[data][loader][errors]") {
  TempDir dir;
  for (const char* name : {"a", "b", "d"}) {
    write_png(dir.path(std::string("img/") + name + ".png"), rtseg::testing::pattern_image(8, 6));
    write_label_png(dir.path(std::string("lbl/") + name + ".png"), Label(8, 6, 1));
  }
  write_label_png(dir.path("lbl/range.png"), Label(8, 6, 9));
  dir.write_text(
      "list.txt",
      "img/a.png lbl/a.png\nimg/b.png lbl/b.png\nimg/gone.png lbl/a.png\nimg/d.png lbl/d.png\n"
      "img/a.png lbl/range.png\n");
  ListDatasetOptions lo;
  lo.root = dir.root();
  lo.list_file = "list.txt";
  lo.info.class_names = {"x", "y", "z"};
  auto ds = std::make_shared<ListDataset>(lo);
  LoaderOptions o;
  o.batch_size = 1;
  o.shuffle = false;
  o.workers = 3;
  DataLoader loader(ds, Pipeline(), o);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  REQUIRE(loader.next(b));
  require_data_error([&] { loader.next(b); }, DataErrorKind::MissingFile,
                     {"loader: epoch 0 batch 2", "img/gone.png", "list.txt:3"});
  REQUIRE(loader.next(b));  // the loader goes on after a bad batch
  REQUIRE(b.names == std::vector<std::string>{"d"});
  require_data_error([&] { loader.next(b); }, DataErrorKind::Value,
                     {"loader: epoch 0 batch 4", "label value 9", "0..2", "ignore value 255"});
  REQUIRE_FALSE(loader.next(b));

  // Mid-epoch restarts and destruction with busy workers neither hang nor crash.
  auto big = synthetic(40, 64, 48);
  o.workers = 3;
  o.shuffle = true;
  for (int round = 0; round < 3; ++round) {
    DataLoader l(big, pidnet_train_pipeline(64, 32, 32, 0), o);
    l.start_epoch(0);
    REQUIRE(l.next(b));
    l.start_epoch(1);
    REQUIRE(l.next(b));
    REQUIRE(b.epoch == 1);
  }
  DataLoader not_started(big, Pipeline(), o);
  REQUIRE_THROWS_AS(not_started.next(b), Error);

  // A batch of differently sized samples cannot be stacked.
  o.shuffle = false;
  o.batch_size = 2;
  o.workers = 0;
  dir.write_text("mixed.txt", "img/a.png\nimg/wide.png\n");
  write_png(dir.path("img/wide.png"), rtseg::testing::pattern_image(9, 6));
  lo.list_file = "mixed.txt";
  lo.require_labels = false;
  DataLoader mixed(std::make_shared<ListDataset>(lo), Pipeline(), o);
  mixed.start_epoch(0);
  rtseg::testing::require_error([&] { mixed.next(b); }, "a batch needs one size");
}

TEST_CASE("bench_loader reports a throughput", "[data][loader]") {
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 2;
  DataLoader loader(synthetic(16, 128, 64), pidnet_train_pipeline(128, 64, 64, 0), o);
  const LoaderThroughput t = bench_loader(loader, 0);
  REQUIRE(t.batches == 4);
  REQUIRE(t.images == 16);
  REQUIRE(t.seconds > 0);
  REQUIRE(t.images_per_second > 0);
  REQUIRE(bench_loader(loader, 1, 2).batches == 2);
}
