// The real CamVid (SegNet version) from ../shared/data/camvid when it is there: every pair loads,
// raw label values are 0..11, the class shares come in the order the data has, and the loader
// runs the PIDNet pipeline on it. Without the folder the tests pass with a warning.
#include <algorithm>
#include <iostream>
#include <numeric>
#include <set>

#include "data/camvid.h"
#include "data/check_dataset.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;

#define SKIP_WITHOUT_CAMVID()                                                          \
  if (!rtseg::testing::camvid_available()) {                                           \
    WARN("CamVid not found at " << rtseg::testing::camvid_root() << "; test skipped"); \
    return;                                                                            \
  }

// One pass over the data (decoding is what takes the time): pairs, sizes, values and shares.
TEST_CASE("CamVid: all 468 pairs load at 480x360, labels in 0..11, class shares in order",
          "[data][camvid]") {
  SKIP_WITHOUT_CAMVID();
  const std::string root = rtseg::testing::camvid_root();
  // Raw label values straight from the PNGs (before 11 → ignore).
  std::vector<uint64_t> raw(256, 0);
  size_t labels = 0;
  for (const char* list : {"train.txt", "val.txt"}) {
    for (const ListEntry& e : read_list_file(join_path(root, list))) {
      const Label l = read_label(join_path(root, e.label));
      REQUIRE(l.width == 480);
      REQUIRE(l.height == 360);
      for (int16_t v : l.values) ++raw[size_t(uint8_t(v))];
      ++labels;
    }
  }
  REQUIRE(labels == 468);
  for (int v = 12; v < 256; ++v) {
    INFO("value " << v);
    REQUIRE(raw[size_t(v)] == 0);
  }
  for (int v = 0; v <= 11; ++v) REQUIRE(raw[size_t(v)] > 0);

  // Every image decodes, pairs match in size, and nothing is out of range after 11 → 255.
  CheckOptions options;
  options.threads = 2;
  DatasetReport all = check_dataset(*camvid_segnet(root, "train"), options);
  const DatasetReport val = check_dataset(*camvid_segnet(root, "val"), options);
  REQUIRE(all.samples == 367);
  REQUIRE(val.samples == 101);
  REQUIRE(all.good == 367);
  REQUIRE(val.good == 101);
  for (const DatasetReport* r : {static_cast<const DatasetReport*>(&all), &val}) {
    REQUIRE(r->problems.empty());
    REQUIRE(r->out_of_range.empty());
    REQUIRE(r->image_sizes.size() == 1);
    REQUIRE(r->image_sizes.count({480, 360}) == 1);
  }
  REQUIRE(all.ignore_pixels + val.ignore_pixels == raw[11]);

  // Class shares over both splits. What the data says (share of the labelled pixels): road 32%,
  // building 25%, sky 16%, tree 12%, sidewalk 6%, car 5%, fence 1.6%, sign 1.1%, pole 0.9%,
  // bicyclist 0.7%, pedestrian 0.7%. Asserted robustly: the four largest and the four smallest
  // as sets, road first, and two shares with a few points of slack.
  for (size_t c = 0; c < all.class_pixels.size(); ++c) all.class_pixels[c] += val.class_pixels[c];
  all.ignore_pixels += val.ignore_pixels;
  INFO(all.summary());
  std::vector<int> order(11);
  for (int c = 0; c < 11; ++c) order[size_t(c)] = c;  // sky, building, pole, road, sidewalk, tree,
  std::sort(order.begin(), order.end(),               // sign, fence, car, pedestrian, bicyclist
            [&](int a, int b) { return all.class_share(a) > all.class_share(b); });
  const std::set<int> largest(order.begin(), order.begin() + 4),
      smallest(order.end() - 4, order.end());
  REQUIRE(largest == std::set<int>{3, 1, 0, 5});    // road, building, sky, tree
  REQUIRE(smallest == std::set<int>{6, 2, 9, 10});  // sign, pole, pedestrian, bicyclist
  REQUIRE(order[0] == 3);
  REQUIRE(all.class_share(3) == Approx(0.32).margin(0.03));
  REQUIRE(all.class_share(1) == Approx(0.25).margin(0.03));
  for (int c : {2, 6, 9, 10}) REQUIRE(all.class_share(c) < 0.015);
}

TEST_CASE("CamVid through the loader with PIDNet's pipeline", "[data][camvid][loader]") {
  SKIP_WITHOUT_CAMVID();
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = 2;
  o.seed = 304;
  // Labels upscaled to 960×720 is PIDNet's protocol; a 360×480 crop keeps the test small.
  DataLoader loader(camvid_segnet(rtseg::testing::camvid_root(), "val"),
                    pidnet_train_pipeline(960, 360, 480, 0), o);
  const LoaderThroughput t = bench_loader(loader, 0, 2);
  REQUIRE(t.images == 4);
  Batch b;
  loader.start_epoch(0);
  REQUIRE(loader.next(b));
  REQUIRE(b.images.shape() == Shape{2, 3, 360, 480});
  REQUIRE(b.boundary.shape() == Shape{2, 1, 360, 480});
  for (int64_t v : b.labels.to_vector<int64_t>()) REQUIRE((v == 255 || (v >= 0 && v < 11)));
}

// Throughput on the real data (not run by ctest; run it by name or with its tag):
//   tests/test_data_camvid "[.bench]"
TEST_CASE("CamVid loader throughput", "[.bench][data][camvid]") {
  SKIP_WITHOUT_CAMVID();
  for (int workers : {1, 2, 4}) {
    LoaderOptions o;
    o.batch_size = 6;
    o.workers = workers;
    o.seed = 304;
    DataLoader loader(camvid_segnet(rtseg::testing::camvid_root(), "train"),
                      pidnet_train_pipeline(960, 720, 960, 0), o);
    const LoaderThroughput t = bench_loader(loader, 0, 20);
    std::cout << "camvid train, PIDNet pipeline (base 960, crop 720x960, boundary, flip), batch 6, "
              << workers << " workers: " << t.images << " images in " << t.seconds
              << " s = " << t.images_per_second << " images/s\n";
  }
}
