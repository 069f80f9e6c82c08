// Datasets on fixtures written in their real folder layouts: Cityscapes (labelIds → trainIds and
// back), Helen (argmax of 11 maps, split files), CamVid (SegNet and colour versions), the
// generic list dataset (class file, remap file), and their errors naming file and line.
#include "data/camvid.h"
#include "data/cityscapes.h"
#include "data/helen.h"
#include "data/list_dataset.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::label_values;
using rtseg::testing::make_label;
using rtseg::testing::require_data_error;
using rtseg::testing::TempDir;

namespace {

void write_cityscapes_pair(const TempDir& dir, const std::string& split, const std::string& city,
                           const std::string& stem, const Label& ids) {
  write_png(dir.path("leftImg8bit/" + split + "/" + city + "/" + stem + "_leftImg8bit.png"),
            rtseg::testing::pattern_image(ids.width, ids.height));
  write_label_png(dir.path("gtFine/" + split + "/" + city + "/" + stem + "_gtFine_labelIds.png"),
                  ids);
}

}  // namespace

TEST_CASE("Cityscapes: layout, labelIds → trainIds, trainIds → ids",
          "[data][datasets][cityscapes]") {
  TempDir dir;
  // ids: road, sidewalk, building, unlabeled | car, bicycle, parking (ignored), person.
  write_cityscapes_pair(dir, "train", "bochum", "bochum_000000_000313",
                        make_label(4, 2, {7, 8, 11, 0, 26, 33, 9, 24}));
  write_cityscapes_pair(dir, "train", "aachen", "aachen_000000_000019",
                        make_label(4, 2, {23, 21, 17, 20, 19, 22, 31, 1}));
  CityscapesDataset ds(dir.root(), "train");
  REQUIRE(ds.size() == 2);
  REQUIRE(ds.num_classes() == 19);
  REQUIRE(ds.class_names()[0] == "road");
  REQUIRE(ds.class_names()[18] == "bicycle");
  REQUIRE(ds.palette()[13] == png::Rgb{0, 0, 142});
  const Sample a = ds.get(0);  // sorted: aachen first
  REQUIRE(a.name == "aachen_000000_000019");
  // sky 10, vegetation 8, pole 5, sign 7 | light 6, terrain 9, train 16, ego vehicle → 255.
  REQUIRE(label_values(a.label) == std::vector<int>{10, 8, 5, 7, 6, 9, 16, 255});
  Sample b = ds.get(1);
  REQUIRE(label_values(b.label) == std::vector<int>{0, 1, 2, 255, 13, 18, 255, 11});
  REQUIRE(b.image.width == 4);
  cityscapes_train_ids_to_ids(b.label);  // submission ids; ignored pixels become 0 (unlabeled)
  REQUIRE(label_values(b.label) == std::vector<int>{7, 8, 11, 0, 26, 33, 0, 24});
  // The full table: every train id maps back to the id it came from.
  for (int t = 0; t < 19; ++t)
    REQUIRE(cityscapes_id_to_train_id(cityscapes_train_id_to_id(t)) == t);
  REQUIRE(cityscapes_id_to_train_id(-1) == 255);
  REQUIRE_THROWS_AS(cityscapes_train_id_to_id(19), Error);

  // Test split: images only.
  write_png(dir.path("leftImg8bit/test/berlin/berlin_000000_000019_leftImg8bit.png"),
            rtseg::testing::pattern_image(4, 2));
  CityscapesDataset test(dir.root(), "test", false);
  REQUIRE(test.get(0).label.empty());
  // A missing label names the gtFine path it looked for.
  CityscapesDataset test_with_labels(dir.root(), "test");
  require_data_error([&] { test_with_labels.get(0); }, DataErrorKind::MissingFile,
                     {"gtFine/test/berlin/berlin_000000_000019_gtFine_labelIds.png"});
  require_data_error([&] { CityscapesDataset(dir.root(), "val"); }, DataErrorKind::MissingFile,
                     {"leftImg8bit/val"});
}

TEST_CASE("Helen: split files and the argmax of the 11 maps", "[data][datasets][helen]") {
  TempDir dir;
  dir.write_text("exemplars.txt", "1 , 100\n2 , 200\n");
  dir.write_text("tuning.txt", "1 100\n");
  for (const std::string id : {"100", "200"}) {
    write_jpeg(dir.path("images/" + id + ".jpg"), rtseg::testing::pattern_image(4, 3));
    for (int k = 0; k < 11; ++k) {
      // Pixel i: map (i % 11) says 200, the others 10; pixel 0 is 0 everywhere (→ background);
      // pixel 1 ties maps 3 and 5 at 150 (→ 3, the lower one).
      Label map(4, 3, 10);
      for (int i = 0; i < 12; ++i) map.values[size_t(i)] = int16_t(i % 11 == k ? 200 : 10);
      map.values[0] = 0;
      map.values[1] = int16_t(k == 3 || k == 5 ? 150 : 10);
      write_label_png(dir.path("labels/" + id + "/" + id + "_lbl" + (k < 10 ? "0" : "") +
                               std::to_string(k) + ".png"),
                      map);
    }
  }
  HelenDataset ds(dir.root(), "train");
  REQUIRE(ds.size() == 2);
  REQUIRE(ds.num_classes() == 11);
  REQUIRE(ds.class_names()[10] == "hair");
  const Sample s = ds.get(0);
  REQUIRE(s.name == "100");
  REQUIRE(label_values(s.label) == std::vector<int>{0, 3, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0});

  require_data_error([&] { HelenDataset(dir.root(), "val"); }, DataErrorKind::Syntax,
                     {"tuning.txt:1", "INDEX , IMAGEID"});
  require_data_error([&] { HelenDataset(dir.root(), "test"); }, DataErrorKind::MissingFile,
                     {"testing.txt"});
  // A map of the wrong size, and a missing map.
  write_label_png(dir.path("labels/200/200_lbl04.png"), Label(5, 3, 0));
  require_data_error([&] { ds.get(1); }, DataErrorKind::SizeMismatch,
                     {"200_lbl04.png", "5x3", "4x3"});
  std::filesystem::remove(dir.path("labels/200/200_lbl07.png"));
  write_label_png(dir.path("labels/200/200_lbl04.png"), Label(4, 3, 0));
  require_data_error([&] { ds.get(1); }, DataErrorKind::MissingFile, {"200_lbl07.png"});
}

TEST_CASE("CamVid SegNet fixture: value 11 becomes ignore", "[data][datasets][camvid]") {
  TempDir dir;
  write_jpeg(dir.path("train/a.jpg"), rtseg::testing::pattern_image(6, 1));
  write_label_png(dir.path("trainannot/a.png"), make_label(6, 1, {0, 3, 10, 11, 5, 11}));
  dir.write_text("train.txt", "train/a.jpg trainannot/a.png\n");
  auto ds = camvid_segnet(dir.root(), "train");
  REQUIRE(ds->size() == 1);
  REQUIRE(ds->num_classes() == 11);
  REQUIRE(ds->class_names()[3] == "road");
  const Sample s = ds->get(0);
  REQUIRE(s.name == "a");
  REQUIRE(label_values(s.label) == std::vector<int>{0, 3, 10, 255, 5, 255});
}

TEST_CASE("CamVid colour fixture: PIDNet's palette, other colours ignored",
          "[data][datasets][camvid]") {
  TempDir dir;
  write_png(dir.path("images/f.png"), rtseg::testing::pattern_image(4, 1));
  Image colours(4, 1, 3);
  colours.pixels = {0, 128, 192, 128, 128, 128,
                    1, 2,   3,   128, 128, 0};  // bicyclist, sky, unknown, tree
  write_png(dir.path("labels/f_L.png"), colours);
  dir.write_text("val.lst", "images/f.png labels/f_L.png\n");
  auto ds = camvid_colour(dir.root(), "val.lst");
  REQUIRE(ds->class_names()[0] == "bicyclist");
  REQUIRE(label_values(ds->get(0).label) == std::vector<int>{0, 9, 255, 10});
}

TEST_CASE("generic list dataset: class file, remapping, colour labels", "[data][datasets][list]") {
  TempDir dir;
  dir.write_text("classes.txt",
                 "road 128 64 128\n# comment\ntraffic light 250 170 30\nsky 70 130 180\n");
  dir.write_text("remap.txt", "5 2\n9 255\n");
  dir.write_text("list.txt", "img/a.png lbl/a.png\n\n# skipped\nimg/b.jpg lbl/b.png\r\n");
  write_png(dir.path("img/a.png"), rtseg::testing::pattern_image(3, 2));
  write_jpeg(dir.path("img/b.jpg"), rtseg::testing::pattern_image(3, 2));
  write_label_png(dir.path("lbl/a.png"), make_label(3, 2, {0, 1, 5, 9, 2, 0}));
  write_label_png(dir.path("lbl/b.png"), make_label(3, 2, {1, 1, 1, 1, 1, 1}));

  const DatasetInfo info = read_class_file(dir.path("classes.txt"));
  REQUIRE(info.class_names == std::vector<std::string>{"road", "traffic light", "sky"});
  REQUIRE(info.palette[1] == png::Rgb{250, 170, 30});
  ListDatasetOptions o;
  o.root = dir.root();
  o.list_file = "list.txt";
  o.info = info;
  o.remap = read_remap_file(dir.path("remap.txt"));
  ListDataset ds(o);
  REQUIRE(ds.size() == 2);
  REQUIRE(label_values(ds.get(0).label) == std::vector<int>{0, 1, 2, 255, 2, 0});
  REQUIRE(ds.get(1).name == "b");
  REQUIRE(ds.describe(1).find("list.txt:4") != std::string::npos);

  // The same labels drawn in the class colours.
  write_png(dir.path("lbl/c.png"), classes_to_colours(make_label(3, 1, {2, 0, 7}), info.palette));
  write_png(dir.path("img/c.png"), rtseg::testing::pattern_image(3, 1));
  dir.write_text("colour.txt", "img/c.png lbl/c.png\n");
  o.list_file = "colour.txt";
  o.remap.clear();
  o.label_format = LabelFormat::Colour;
  REQUIRE(label_values(ListDataset(o).get(0).label) == std::vector<int>{2, 0, 255});

  // A subset keeps the class table and picks samples by index.
  o.list_file = "list.txt";
  o.label_format = LabelFormat::Index;
  auto base = std::make_shared<ListDataset>(o);
  SubsetDataset subset(base, {1});
  REQUIRE(subset.size() == 1);
  REQUIRE(subset.get(0).name == "b");
  REQUIRE(subset.num_classes() == 3);
  REQUIRE_THROWS_AS(SubsetDataset(base, {2}), Error);
}

TEST_CASE("list and class files written with a UTF-8 byte-order mark read as without",
          "[data][datasets][list]") {
  TempDir dir;
  dir.write_text("bom.txt", "\xEF\xBB\xBFimg/a.png lbl/a.png\r\nimg/b.png lbl/b.png\r\n");
  const std::vector<ListEntry> entries = read_list_file(dir.path("bom.txt"), true);
  REQUIRE(entries.size() == 2);
  REQUIRE(entries[0].image == "img/a.png");
  const DatasetInfo info = read_class_file(
      dir.write_text("classes.txt", "\xEF\xBB\xBFroad 128 64 128\nsky 70 130 180\n"));
  REQUIRE(info.class_names == std::vector<std::string>{"road", "sky"});
}

TEST_CASE("list, class and remap files: malformed lines name the file and line",
          "[data][datasets][errors]") {
  TempDir dir;
  ListDatasetOptions o;
  o.root = dir.root();
  o.info.class_names = {"a", "b"};
  dir.write_text("three.txt", "a.png b.png\nx.png y.png z.png\n");
  o.list_file = "three.txt";
  require_data_error([&] { ListDataset ds(o); }, DataErrorKind::Syntax,
                     {"three.txt:2", "IMAGE LABEL", "3 fields"});
  dir.write_text("one.txt", "# header\nonly.png\n");
  o.list_file = "one.txt";
  require_data_error([&] { ListDataset ds(o); }, DataErrorKind::Syntax, {"one.txt:2", "1 field"});
  dir.write_text("empty.txt", "\n# nothing\n");
  o.list_file = "empty.txt";
  require_data_error([&] { ListDataset ds(o); }, DataErrorKind::Syntax,
                     {"empty.txt", "no entries"});
  o.list_file = "absent.txt";
  require_data_error([&] { ListDataset ds(o); }, DataErrorKind::MissingFile, {"absent.txt"});

  require_data_error([&] { read_class_file(dir.write_text("c1.txt", "road 1 2 3\nsky 4 5\n")); },
                     DataErrorKind::Syntax, {"c1.txt:2", "NAME R G B"});
  require_data_error([&] { read_class_file(dir.write_text("c2.txt", "road 1 2 300\n")); },
                     DataErrorKind::Syntax, {"c2.txt:1", "300"});
  require_data_error([&] { read_class_file(dir.write_text("c3.txt", "road 1 2 x3\n")); },
                     DataErrorKind::Syntax, {"c3.txt:1", "x3"});
  require_data_error([&] { read_remap_file(dir.write_text("r1.txt", "1 2\n5\n")); },
                     DataErrorKind::Syntax, {"r1.txt:2", "FROM TO"});
}

TEST_CASE("broken samples: missing files, size mismatch, wrong channels, corrupt data",
          "[data][datasets][errors]") {
  TempDir dir;
  write_png(dir.path("img/ok.png"), rtseg::testing::pattern_image(4, 3));
  write_label_png(dir.path("lbl/ok.png"), Label(4, 3, 1));
  write_label_png(dir.path("lbl/small.png"), Label(4, 2, 1));
  write_png(dir.path("lbl/rgb.png"), rtseg::testing::pattern_image(4, 3));
  const std::vector<uint8_t> png = read_file(dir.path("lbl/ok.png"));
  dir.write_bytes("lbl/cut.png",
                  std::vector<uint8_t>(png.begin(), png.begin() + ptrdiff_t(png.size() - 15)));
  dir.write_text("list.txt",
                 "img/ok.png lbl/ok.png\n"
                 "img/gone.png lbl/ok.png\n"
                 "img/ok.png lbl/gone.png\n"
                 "img/ok.png lbl/small.png\n"
                 "img/ok.png lbl/rgb.png\n"
                 "img/ok.png lbl/cut.png\n");
  ListDatasetOptions o;
  o.root = dir.root();
  o.list_file = "list.txt";
  o.info.class_names = {"a", "b"};
  ListDataset ds(o);
  REQUIRE(ds.get(0).label.at(3, 2) == 1);
  require_data_error([&] { ds.get(1); }, DataErrorKind::MissingFile,
                     {"img/gone.png", "listed at", "list.txt:2"});
  require_data_error([&] { ds.get(2); }, DataErrorKind::MissingFile,
                     {"lbl/gone.png", "list.txt:3"});
  require_data_error([&] { ds.get(3); }, DataErrorKind::SizeMismatch,
                     {"lbl/small.png", "4x2", "img/ok.png", "4x3", "list.txt:4"});
  require_data_error([&] { ds.get(4); }, DataErrorKind::Format,
                     {"lbl/rgb.png", "3 channels", "list.txt:5"});
  require_data_error([&] { ds.get(5); }, DataErrorKind::Corrupt,
                     {"lbl/cut.png", "truncated", "list.txt:6"});
}
