// Config files of `rtseg train`: YAML sections → dotted keys, KEY=VALUE overrides, type checks,
// unknown keys listing the valid ones, the resolved YAML reading back to the same config, and the
// meaning checks of read_experiment.
#include <cmath>

#include "apps/lib/config.h"
#include "apps/lib/experiment.h"
#include "apps/lib/value_range.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;

namespace {

std::vector<KeySpec> small_schema() {
  return {{"model.name", ValueKind::String, "cifrenet", ""},
          {"train.lr", ValueKind::Float, "0.01", ""},
          {"train.iterations", ValueKind::Int, "10", ""},
          {"train.nesterov", ValueKind::Bool, "false", ""},
          {"data.crop", ValueKind::IntList, "[]", ""},
          {"train.class_weights", ValueKind::FloatList, "[1.0, 2.5]", ""}};
}

}  // namespace

TEST_CASE("config: defaults, nested YAML sections and overrides, in that order", "[app][config]") {
  Config c(small_schema());
  REQUIRE(c.get_string("model.name") == "cifrenet");
  REQUIRE(c.get_float("train.lr") == 0.01);
  REQUIRE(c.get_floats("train.class_weights") == std::vector<double>{1.0, 2.5});
  REQUIRE_FALSE(c.is_set("train.lr"));

  c.merge_yaml_text("train:\n  lr: 0.05\n  nesterov: yes\ndata: {crop: [256, 512]}\n", "inline");
  REQUIRE(c.get_float("train.lr") == 0.05);
  REQUIRE(c.get_bool("train.nesterov"));
  REQUIRE(c.get_ints("data.crop") == std::vector<int64_t>{256, 512});
  REQUIRE(c.is_set("train.lr"));

  c.apply_override("train.lr=1e-3");
  c.apply_override("data.crop=[64,32]");
  c.apply_override("model.name=pidnet-s");
  c.apply_override("train.class_weights=[]");
  REQUIRE(c.get_float("train.lr") == 0.001);
  REQUIRE(c.get_ints("data.crop") == std::vector<int64_t>{64, 32});
  REQUIRE(c.get_string("model.name") == "pidnet-s");
  REQUIRE(c.get_floats("train.class_weights").empty());
  // Strings are taken as typed (no YAML reading of ':' or '#'); outer quotes are dropped.
  c.apply_override("model.name='a: b # c'");
  REQUIRE(c.get_string("model.name") == "a: b # c");
  // NaN and infinities in YAML's spellings.
  c.apply_override("train.lr=.nan");
  REQUIRE(std::isnan(c.get_float("train.lr")));
}

TEST_CASE("config: the resolved YAML reads back to the same values", "[app][config]") {
  Config c(experiment_schema());
  c.apply_override("model.name=weird \"name\"\\x");
  c.apply_override("train.lr=0.1");
  c.apply_override("data.crop=[7, 9]");
  c.apply_override("train.class_weights=[0.5, 1e-7, 1e300]");
  Config back(experiment_schema());
  back.merge_yaml_text(c.to_yaml(), "round trip");
  REQUIRE(back.differences(c).empty());
  REQUIRE(back.get_string("model.name") == "weird \"name\"\\x");
  REQUIRE(back.get_floats("train.class_weights")[1] == 1e-7);
  REQUIRE(back.get_floats("train.class_weights")[2] == 1e300);

  Config other(experiment_schema());
  const auto diff = other.differences(c);
  REQUIRE(diff.size() == 4);
  REQUIRE(diff[0].first == "model.name");
}

TEST_CASE("config: unknown keys, wrong types and bad YAML are errors naming the source",
          "[app][config]") {
  Config c(small_schema());
  require_error([&] { c.merge_yaml_text("train:\n  lrr: 0.1\n", "x.yaml"); },
                "x.yaml: unknown key 'train.lrr' (did you mean 'train.lr'?); valid keys: "
                "model.name, train.lr");
  require_error([&] { c.apply_override("trian.lr=1"); }, "unknown key 'trian.lr'");
  require_error([&] { c.merge_yaml_text("bogus: 1\n", "y.yaml"); }, "y.yaml: unknown key 'bogus'");
  require_error([&] { c.merge_yaml_text("train: 5\n", "z.yaml"); }, "z.yaml: 'train' is a section");
  require_error([&] { c.apply_override("train.lr=fast"); },
                "train.lr: expected a number, got 'fast'");
  require_error([&] { c.apply_override("train.iterations=1.5"); },
                "train.iterations: expected an integer");
  require_error([&] { c.apply_override("train.nesterov=maybe"); }, "expected true or false");
  require_error([&] { c.apply_override("data.crop=5"); }, "data.crop: expected a list of integers");
  require_error([&] { c.apply_override("data.crop=[1, x]"); }, "a list holding 'x'");
  require_error([&] { c.apply_override("train.lr"); }, "is not KEY=VALUE");
  require_error([&] { c.merge_yaml_text("train: [unclosed\n", "bad.yaml"); },
                "bad.yaml: not valid YAML");
  require_error([&] { c.merge_yaml_text("- a\n- b\n", "list.yaml"); },
                "list.yaml: expected a map of sections");
  require_error([&] { c.merge_yaml_file("/nonexistent/config.yaml"); },
                "'/nonexistent/config.yaml' cannot be read");
  // A key given twice: YAML lets the first win in silence; here it is an error naming both lines.
  require_error(
      [&] { c.merge_yaml_text("train:\n  lr: 0.1\n  iterations: 3\n  lr: 0.2\n", "dup.yaml"); },
      "dup.yaml: 'train.lr' is set twice, on lines 2 and 4");
  require_error(
      [&] { c.merge_yaml_text("train:\n  lr: 1\ndata: {}\ntrain:\n  lr: 2\n", "sec.yaml"); },
      "sec.yaml: 'train' is set twice, on lines 1 and 4");
  require_error([&] { c.merge_yaml_text("train.lr: 1\ntrain:\n  lr: 2\n", "dot.yaml"); },
                "dot.yaml: 'train.lr' is set twice, on lines 1 and 3");
  // A failed merge never leaves a value of the wrong type behind.
  REQUIRE(c.get_float("train.lr") == 0.01);
  require_error([&] { c.get_int("train.lr"); }, "read as an integer but holds a number");
}

TEST_CASE("experiment: values are checked for their meaning", "[app][config]") {
  auto with = [](const std::string& o) {
    Config c(experiment_schema());
    c.apply_override(o);
    return read_experiment(c);
  };
  REQUIRE(read_experiment(Config(experiment_schema())).model.variant == "cityscapes");
  REQUIRE(with("data.dataset=camvid960").model.variant == "camvid");
  REQUIRE(with("data.dataset=helen").model.variant == "helen");
  REQUIRE(read_experiment(Config(experiment_schema()), "configs/abc.yaml").output_dir ==
          "runs/abc");
  require_error([&] { with("data.dataset=kitti"); },
                "data.dataset must be one of synthetic, camvid");
  require_error([&] { with("train.batch_size=0"); }, "train.batch_size must be >= 1");
  require_error([&] { with("train.lr=-1"); }, "train.lr must be > 0, got -1");
  require_error([&] { with("data.crop=[1, 2, 3]"); }, "data.crop must be [height, width]");
  require_error([&] { with("data.augment=cifrenet"); }, "data.augment cifrenet needs data.crop");
  require_error([&] { with("train.device=tpu"); },
                "train.device must be auto, cpu, cuda or cuda:N");
  require_error([&] { with("train.ce_reduction=sum"); },
                "train.ce_reduction must be one of mean, all_pixels");
  require_error([&] { with("data.normalization=bgr"); }, "data.normalization must be one of");
  // The schema's ranges, checked where the value is set (NaN is in no range).
  require_error([&] { with("train.ohem_thresh=.nan"); },
                "train.ohem_thresh must be in [0, 1], got nan");
  require_error([&] { with("train.ohem_thresh=-0.1"); },
                "train.ohem_thresh must be in [0, 1], got -0.1");
  require_error([&] { with("train.ohem_thresh=1.5"); },
                "train.ohem_thresh must be in [0, 1], got 1.5");
  require_error([&] { with("train.momentum=1"); }, "train.momentum must be in [0, 1), got 1");
  require_error([&] { with("train.lr=.inf"); }, "train.lr must be > 0, got inf");
  require_error([&] { with("train.class_weights=[1, -2]"); },
                "each value of train.class_weights must be >= 0, got -2");
  require_error([&] { with("data.crop=[0, 64]"); },
                "each value of data.crop must be in [1, 16384], got 0");
  REQUIRE(with("train.ohem_thresh=1").train.ohem_thresh == 1.0);
  Config yaml(experiment_schema());
  require_error([&] { yaml.merge_yaml_text("train:\n  warmup_ratio: 2\n", "r.yaml"); },
                "r.yaml: train.warmup_ratio must be in [0, 1], got 2");
  // Every range of the schema parses, and every default is inside its range.
  for (const KeySpec& k : experiment_schema()) {
    INFO(k.key);
    if (!k.range.empty()) REQUIRE_NOTHROW(ValueRange::parse(k.range));
  }
  REQUIRE_NOTHROW(Config(experiment_schema()));
  REQUIRE(describe_keys(experiment_schema()).find("train.momentum = 0.9") != std::string::npos);
  REQUIRE(describe_keys(experiment_schema()).find("SGD momentum (in [0, 1))") != std::string::npos);
}

TEST_CASE("config: every recipe in configs/ loads and its values make sense", "[app][config]") {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(RTSEG_SOURCE_DIR) + "/configs")) {
    INFO(entry.path().string());
    const Config c = load_experiment_config(entry.path().string(), {});
    const Experiment e = read_experiment(c, entry.path().string());
    REQUIRE_FALSE(e.model.name.empty());
    REQUIRE((e.train.iterations > 0 || e.train.epochs > 0));
  }
}

TEST_CASE("value ranges: intervals, their ends and their words", "[app][config]") {
  const ValueRange unit = ValueRange::parse("[0, 1]");
  REQUIRE(unit.contains(0));
  REQUIRE(unit.contains(1));
  REQUIRE_FALSE(unit.contains(std::nan("")));
  REQUIRE(unit.text() == "in [0, 1]");
  const ValueRange positive = ValueRange::parse("(0, inf)");
  REQUIRE_FALSE(positive.contains(0));
  REQUIRE_FALSE(positive.contains(INFINITY));
  REQUIRE(positive.contains(1e300));
  REQUIRE(positive.text() == "> 0");
  REQUIRE(ValueRange::parse("[1, inf)").text() == ">= 1");
  REQUIRE(ValueRange::parse("(-inf, 5]").text() == "<= 5");
  REQUIRE(ValueRange::parse("[0, 1)").text() == "in [0, 1)");
  for (const char* bad : {"0, 1", "[1, 0]", "[a, 1]", "[0 1]", "[nan, 1]"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(ValueRange::parse(bad), Error);
  }
}

TEST_CASE("parse_size reads HxW", "[app][config]") {
  REQUIRE(parse_size("512x1024", "--size") == std::pair<int64_t, int64_t>{512, 1024});
  REQUIRE(parse_size("3,4", "--size") == std::pair<int64_t, int64_t>{3, 4});
  require_error([] { parse_size("512", "--size"); }, "--size: expected HEIGHTxWIDTH");
  require_error([] { parse_size("0x5", "--size"); }, "expected HEIGHTxWIDTH");
  require_error([] { parse_size("axb", "--size"); }, "got 'axb'");
  REQUIRE(parse_size("16384x16384", "--size").first == 16384);
  require_error([] { parse_size("99999999x99999999", "--size"); },
                "--size: 99999999x99999999 is larger than 16384 on a side");
}
