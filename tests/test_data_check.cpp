// check_dataset on a fixture with one sample of each kind of problem: exact counts, sizes and
// histogram; strict mode throws at the first unreadable sample, skip mode reports and goes on.
#include "data/check_dataset.h"
#include "data/list_dataset.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::make_label;
using rtseg::testing::require_data_error;
using rtseg::testing::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::shared_ptr<ListDataset> dataset;

  Fixture() {
    write_png(dir.path("img/a.png"), rtseg::testing::pattern_image(4, 3));
    write_png(dir.path("img/b.png"), rtseg::testing::pattern_image(6, 2));
    write_label_png(dir.path("lbl/a.png"),
                    make_label(4, 3, {0, 0, 0, 0, 1, 1, 1, 255, 2, 2, 2, 255}));
    write_label_png(dir.path("lbl/b.png"), make_label(6, 2, {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
    write_label_png(dir.path("lbl/range.png"),
                    make_label(4, 3, {0, 0, 7, 7, 7, 3, 255, 255, 1, 1, 1, 1}));
    write_label_png(dir.path("lbl/small.png"), Label(4, 2, 0));
    dir.write_text("list.txt",
                   "img/a.png lbl/a.png\n"
                   "img/b.png lbl/b.png\n"
                   "img/a.png lbl/range.png\n"
                   "img/missing.png lbl/a.png\n"
                   "img/a.png lbl/small.png\n");
    ListDatasetOptions o;
    o.root = dir.root();
    o.list_file = "list.txt";
    o.info.name = "fixture";
    o.info.class_names = {"zero", "one", "two"};
    dataset = std::make_shared<ListDataset>(o);
  }
};

}  // namespace

TEST_CASE("check_dataset reports counts, sizes, histogram and every problem in skip mode",
          "[data][check]") {
  Fixture f;
  CheckOptions options;
  options.skip_bad = true;
  for (int threads : {1, 3}) {
    INFO("threads " << threads);
    options.threads = threads;
    const DatasetReport r = check_dataset(*f.dataset, options);
    REQUIRE(r.samples == 5);
    REQUIRE(r.good == 2);
    REQUIRE(r.good_indices == std::vector<size_t>{0, 1});
    // a, b and the out-of-range sample are readable and counted; the other two are not.
    REQUIRE(r.image_sizes.size() == 2);
    REQUIRE(r.image_sizes.at({4, 3}) == 2);
    REQUIRE(r.image_sizes.at({6, 2}) == 1);
    // a: 4 zeros, 3 ones, 3 twos, 2 ignore; b: 6 ones, 6 zeros; range: 2 zeros, 4 ones, 2 ignore,
    // and the values 7 (3 px) and 3 (1 px) that are neither classes nor ignore.
    REQUIRE(r.class_pixels == std::vector<uint64_t>{12, 13, 3});
    REQUIRE(r.ignore_pixels == 4);
    REQUIRE(r.out_of_range == std::map<int, uint64_t>{{3, 1}, {7, 3}});
    REQUIRE(r.labelled_pixels() == 12 + 13 + 3 + 4 + 4);
    REQUIRE(r.class_share(1) == Approx(13.0 / 28.0));
    REQUIRE(r.problems.size() == 3);
    REQUIRE(r.count(DataErrorKind::Value) == 1);
    REQUIRE(r.count(DataErrorKind::MissingFile) == 1);
    REQUIRE(r.count(DataErrorKind::SizeMismatch) == 1);
    REQUIRE(r.problems[0].index == 2);
    REQUIRE(r.problems[0].message.find("list.txt:3") != std::string::npos);
    REQUIRE(r.problems[0].message.find("7 (3 px)") != std::string::npos);
    REQUIRE(r.problems[1].message.find("img/missing.png") != std::string::npos);
    REQUIRE(r.problems[2].message.find("lbl/small.png") != std::string::npos);
    const std::string text = r.summary();
    INFO(text);
    REQUIRE(text.find("missing file: 1 sample") != std::string::npos);
    REQUIRE(text.find("value 7 is not a class and not ignore: 3 px") != std::string::npos);
    REQUIRE(text.find("4x3 (2)") != std::string::npos);
  }
  // Training on what is left: a subset of the good samples.
  const DatasetReport r = check_dataset(*f.dataset, options);
  SubsetDataset good(f.dataset, r.good_indices);
  const DatasetReport again = check_dataset(good);
  REQUIRE(again.good == 2);
  REQUIRE(again.problems.empty());
}

TEST_CASE("check_dataset without skip_bad throws at the first unreadable sample",
          "[data][check][errors]") {
  Fixture f;
  require_data_error([&] { check_dataset(*f.dataset); }, DataErrorKind::MissingFile,
                     {"img/missing.png", "list.txt:4"});
  CheckOptions first3;
  first3.max_samples = 3;  // only a, b and the out-of-range one: reported, not thrown
  const DatasetReport r = check_dataset(*f.dataset, first3);
  REQUIRE(r.samples == 3);
  REQUIRE(r.count(DataErrorKind::Value) == 1);
  CheckOptions more_classes = first3;
  more_classes.num_classes = 8;  // with 8 classes, 3 and 7 are classes
  REQUIRE(check_dataset(*f.dataset, more_classes).out_of_range.empty());
}

TEST_CASE(
    "check_dataset: labels without a class pixel are an error of the split, a high ignored share a "
    "warning",
    "[data][check]") {
  TempDir dir;
  write_png(dir.path("img/a.png"), rtseg::testing::pattern_image(4, 2));
  write_label_png(dir.path("lbl/none.png"), Label(4, 2, 255));
  write_label_png(dir.path("lbl/most.png"), make_label(4, 2, {255, 255, 255, 255, 255, 0, 1, 2}));
  dir.write_text("none.txt", "img/a.png lbl/none.png\nimg/a.png lbl/none.png\n");
  dir.write_text("most.txt", "img/a.png lbl/most.png\n");
  auto open = [&](const std::string& list) {
    ListDatasetOptions o;
    o.root = dir.root();
    o.list_file = list;
    o.info.name = "fixture";
    o.info.class_names = {"zero", "one", "two"};
    return ListDataset(o);
  };
  const DatasetReport none = check_dataset(open("none.txt"));
  REQUIRE(none.problems.empty());  // each sample is readable and in range
  REQUIRE(none.split_errors.size() == 1);
  REQUIRE(none.split_errors[0].find(
              "not a single label pixel is a class: all 16 are the ignore value 255") !=
          std::string::npos);
  REQUIRE(none.summary().find("error: not a single label pixel") != std::string::npos);

  const DatasetReport most = check_dataset(open("most.txt"));
  REQUIRE(most.split_errors.empty());
  REQUIRE(most.split_warnings.size() == 1);
  REQUIRE(most.split_warnings[0].find("62.50% of the label pixels are the ignore value 255") !=
          std::string::npos);

  Fixture f;  // 2 ignored pixels of 36: neither
  CheckOptions skip;
  skip.skip_bad = true;
  const DatasetReport fine = check_dataset(*f.dataset, skip);
  REQUIRE(fine.split_errors.empty());
  REQUIRE(fine.split_warnings.empty());
}
