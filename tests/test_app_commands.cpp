// Every `rtseg` subcommand end to end, in-process, on tiny synthetic data (32×32 scenes, a few
// iterations): the files each one writes, resuming after an interruption bit for bit, the stop
// on a non-finite loss, and one-line errors with a non-zero status for every kind of bad input.
#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app_test_util.h"
#include "apps/commands.h"
#include "apps/lib/config.h"
#include "apps/lib/csv_log.h"
#include "apps/lib/experiment.h"
#include "apps/lib/interrupt.h"
#include "apps/lib/trainer.h"
#include "core/safetensors.h"
#include "data/cityscapes.h"
#include "data/synthetic.h"
#include "nets/registry.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::vector<double>> checkpoint_tensors(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::read(path);
  std::map<std::string, std::vector<double>> out;
  for (const std::string& name : f.names()) out[name] = f.tensor(name).to_doubles();
  return out;
}

}  // namespace

TEST_CASE("rtseg train writes the run folder, and eval and predict use its checkpoint",
          "[app][commands]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  const CliResult t = rtseg_cli({"train", "--config", config, "-o", run});
  INFO(t.out << t.err);
  REQUIRE(t.status == 0);
  REQUIRE(t.out.find("it 3/4") != std::string::npos);  // plain progress lines (not a terminal)
  REQUIRE(t.out.find("val iteration 2/4") != std::string::npos);
  REQUIRE(t.out.find("finished 4 iterations") != std::string::npos);
  for (const char* f : {"config.yaml", "last.safetensors", "best.safetensors", "train_log.csv",
                        "val_log.csv", "curves.png", "metrics.json"}) {
    INFO(f);
    REQUIRE(fs::exists(run + "/" + f));
  }
  bool events = false;
  for (const auto& e : fs::directory_iterator(run)) {
    events = events || e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  REQUIRE(events);
  // The resolved config reads back; the logs have a row per log interval and per validation.
  REQUIRE(load_experiment_config(run + "/config.yaml", {}).get_int("train.iterations") == 4);
  REQUIRE(data::read_file(run + "/train_log.csv").size() > 0);

  // eval: the config comes from the checkpoint; flip testing; metrics.json where asked.
  const CliResult e =
      rtseg_cli({"eval", "--weights", run + "/best.safetensors", "--flip", "-o", dir.path("eval")});
  INFO(e.out << e.err);
  REQUIRE(e.status == 0);
  REQUIRE(e.out.find("mIoU") != std::string::npos);
  REQUIRE(e.out.find("traffic light") != std::string::npos);  // class names in the table
  REQUIRE(e.out.find("confusion matrix") != std::string::npos);
  const auto bytes = data::read_file(dir.path("eval") + "/metrics.json");
  const nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
  REQUIRE(j["classes"].size() == 19);
  REQUIRE(j["flip"] == "true");
  REQUIRE(j["confusion_matrix"].size() == 19);

  // predict: an image, a folder and a list file.
  const data::Sample scene = data::render_street_scene(40, 30, 5);
  data::write_png(dir.path("images/a.png"), scene.image);
  data::write_png(dir.path("images/b.png"), scene.image);
  const std::string list = dir.write_text("list.txt", "images/a.png\n");
  const CliResult p =
      rtseg_cli({"predict", "--weights", run + "/last.safetensors", dir.path("images/a.png"),
                 dir.path("images"), list, "-o", dir.path("pred"), "--size", "32x32"});
  INFO(p.out << p.err);
  REQUIRE(p.status == 0);
  REQUIRE(p.out.find("2 image(s): mean") !=
          std::string::npos);  // a.png given 3 times: predicted once
  REQUIRE(p.out.find("was given 3 times: predicted once") != std::string::npos);
  for (const char* suffix : {"_color.png", "_overlay.png", "_label.png"}) {
    const data::Image img = data::read_image(dir.path("pred") + "/a" + suffix);
    REQUIRE(img.width == 40);   // full resolution, whatever size the net ran at
    REQUIRE(img.height >= 30);  // the overlay has the legend below the image
  }
  REQUIRE(data::read_label(dir.path("pred") + "/b_label.png").height == 30);
}

TEST_CASE("rtseg train: an interrupted run resumes bit-identically", "[app][commands]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const Config c = load_experiment_config(config, {});

  // Straight: 4 iterations (2 epochs, validations at 2 and 4).
  Config straight_config = c;
  straight_config.apply_override("output.dir=" + dir.path("straight"));
  std::ostringstream quiet;
  TrainOptions straight;
  straight.out = &quiet;
  const TrainResult a = train(straight_config, straight);
  REQUIRE(a.iteration == 4);
  REQUIRE_FALSE(a.interrupted);

  // Interrupted: Ctrl-C (a real SIGINT through the handler) during iteration 3, mid-epoch 1.
  Config parts_config = c;
  parts_config.apply_override("output.dir=" + dir.path("parts"));
  TrainOptions first;
  first.out = &quiet;
  first.after_iteration = [](int64_t it) {
    if (it == 3) std::raise(SIGINT);
  };
  const TrainResult b = train(parts_config, first);
  REQUIRE(b.interrupted);
  REQUIRE(b.iteration == 3);
  clear_interrupt();

  // Resumed through the command line, which finds <run>/last.safetensors.
  const CliResult r = rtseg_cli({"train", "--config", config, "--resume", "-o", dir.path("parts")});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out.find("resumed from") != std::string::npos);
  REQUIRE(r.out.find("at iteration 3/4") != std::string::npos);

  // Model, BN statistics, momentum: bit for bit.
  const auto x = checkpoint_tensors(dir.path("straight") + "/last.safetensors");
  const auto y = checkpoint_tensors(dir.path("parts") + "/last.safetensors");
  REQUIRE(x.size() == y.size());
  for (const auto& [name, values] : x) {
    INFO(name);
    REQUIRE(y.count(name));
    REQUIRE(values == y.at(name));
  }
  // The logs (a row per iteration here) hold the same losses, none lost or doubled.
  const auto x_rows = read_csv(dir.path("straight") + "/train_log.csv");
  const auto y_rows = read_csv(dir.path("parts") + "/train_log.csv");
  REQUIRE(x_rows.size() == 5);
  REQUIRE(y_rows.size() == 5);
  for (size_t i = 0; i < x_rows.size(); ++i) REQUIRE(x_rows[i][3] == y_rows[i][3]);
  REQUIRE(read_csv(dir.path("parts") + "/val_log.csv").size() == 3);  // header + iterations 2 and 4
}

TEST_CASE("rtseg train stops on a non-finite loss and keeps the last good checkpoint",
          "[app][commands]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  // (Validating before the first log row is written must work too.)
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=2",
                     "train.checkpoint_interval=1", "train.log_interval=5", "train.val_interval=1"})
              .status == 0);
  REQUIRE(read_csv(run + "/val_log.csv").size() == 3);
  const auto before = data::read_file(run + "/last.safetensors");

  // Resume with class weights whose sum overflows (NaN itself is refused by the config): the
  // first iteration's loss is inf / inf = NaN.
  std::string nan_weights = "train.class_weights=[";
  for (int i = 0; i < 19; ++i) nan_weights += i ? ", 1e308" : "1e308";
  nan_weights += "]";
  require_one_line_error({"train", "--config", config, "-o", run, "--resume", "train.iterations=4",
                          "train.class_weight_prob=1", nan_weights},
                         "the loss is not finite at iteration 2");
  REQUIRE(data::read_file(run + "/last.safetensors") == before);
  const CliResult r = rtseg_cli({"train", "--config", config, "-o", run, "--resume",
                                 "train.iterations=4", "train.class_weight_prob=1", nan_weights});
  REQUIRE(r.err.find("last good checkpoint " + run + "/last.safetensors is kept") !=
          std::string::npos);
}

TEST_CASE("rtseg summary, convert and check-dataset", "[app][commands]") {
  const CliResult s = rtseg_cli({"summary", "--net", "cifrenet", "--classes", "11", "--size",
                                 "64x64", "--variant", "camvid", "--json"});
  INFO(s.err);
  REQUIRE(s.status == 0);
  const nlohmann::json j = nlohmann::json::parse(s.out);
  REQUIRE_FALSE(j.empty());
  const CliResult table =
      rtseg_cli({"summary", "--net", "cifrenet", "--size", "32x64", "--depth", "0"});
  REQUIRE(table.status == 0);
  REQUIRE(table.out.find("CifreNet") != std::string::npos);
  REQUIRE(table.out.find("[1, 19, 32, 64]") != std::string::npos);

  // convert: a safetensors input (here with DataParallel's `module.` prefix) needs no Python;
  // --net loads the result and prints the key report.
  TempDir dir;
  NetOptions o;
  o.num_classes = 19;
  auto net = create_net("cifrenet", o);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : net->state_dict()) tensors.emplace_back("module." + name, t);
  tensors.pop_back();  // one missing key shows in the report
  write_safetensors(dir.path("in.safetensors"), tensors);
  const CliResult c = rtseg_cli(
      {"convert", dir.path("in.safetensors"), dir.path("out.safetensors"), "--net", "cifrenet"});
  INFO(c.out << c.err);
  REQUIRE(c.status == 0);
  REQUIRE(c.out.find(fmt::format("{} loaded, 1 missing, 0 unexpected", tensors.size())) !=
          std::string::npos);
  REQUIRE(SafetensorsFile::read(dir.path("out.safetensors")).names().size() == tensors.size());

  // check-dataset: the synthetic set is clean; a list with a missing file is reported with
  // --skip-bad (status 1) and is a one-line error without it.
  const std::string config = tiny_config(dir);
  // (Positional KEY=VALUE settings and --set ones both apply.)
  const CliResult ok =
      rtseg_cli({"check-dataset", "--config", config, "data.synthetic_train_samples=3", "--set",
                 "data.synthetic_val_samples=1"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.status == 0);
  REQUIRE(ok.out.find("== synthetic train (3 samples)") != std::string::npos);
  REQUIRE(ok.out.find("== synthetic val (1 samples)") != std::string::npos);
  REQUIRE(ok.out.find("no problems found") != std::string::npos);
  REQUIRE(ok.out.find("road") != std::string::npos);
  data::write_png(dir.path("l/img.png"), data::Image(4, 4, 3));
  data::write_label_png(dir.path("l/lab.png"), data::Label(4, 4, 1));
  dir.write_text("l/classes.txt", "a 0 0 0\nb 255 255 255\n");
  dir.write_text("l/list.txt", "img.png lab.png\nmissing.png lab.png\n");
  const std::vector<std::string> base{"check-dataset", "--dataset",   "list",
                                      "--root",        dir.path("l"), "--class-file",
                                      "classes.txt",   "--split",     "list.txt"};
  std::vector<std::string> skip = base;
  skip.push_back("--skip-bad");
  const CliResult bad = rtseg_cli(skip);
  REQUIRE(bad.status == 1);
  REQUIRE(bad.out.find("1 problem(s) found") != std::string::npos);
  require_one_line_error(base, "missing.png");
}

TEST_CASE("rtseg eval --submission writes Cityscapes label ids at full resolution",
          "[app][commands]") {
  TempDir dir;
  // A tiny Cityscapes tree: one 64×32 val image with label ids.
  const std::string stem = "lindau_000000_000019";
  data::write_png(dir.path("cs/leftImg8bit/val/lindau/" + stem + "_leftImg8bit.png"),
                  pattern_image(64, 32));
  data::Label ids(64, 32, 7);                      // road
  for (int x = 0; x < 64; ++x) ids.at(x, 0) = 23;  // sky
  data::write_label_png(dir.path("cs/gtFine/val/lindau/" + stem + "_gtFine_labelIds.png"), ids);
  // Weights: a fresh CIFReNet saved as plain safetensors (no config inside: --config needed).
  NetOptions o;
  auto net = create_net("cifrenet", o);
  write_safetensors(dir.path("w.safetensors"), net->state_dict());
  const std::string config =
      dir.write_text("cs.yaml", "data:\n  dataset: cityscapes\n  root: " + dir.path("cs") +
                                    "\n  eval_size: [32, 32]\n  workers: 0\n");
  require_one_line_error({"eval", "--weights", dir.path("w.safetensors")},
                         "holds plain weights without a config");
  const CliResult r = rtseg_cli({"eval", "--weights", dir.path("w.safetensors"), "--config", config,
                                 "--submission", dir.path("sub"), "-o", dir.path("ev")});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const data::Label written = data::read_label(dir.path("sub") + "/" + stem + ".png");
  REQUIRE(written.width == 64);  // the image's size, not the 32×32 the net ran at
  REQUIRE(written.height == 32);
  for (int16_t v : written.values) {
    REQUIRE(data::cityscapes_id_to_train_id(v) != 255);  // ids of evaluated classes only
  }
}

TEST_CASE("rtseg: bad flags, keys, files and checkpoints are one-line errors", "[app][commands]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  require_one_line_error({}, "A subcommand is required");
  require_one_line_error({"trian"}, "unknown command 'trian' (commands: train, eval");
  require_one_line_error({"train", "--bogus"}, "--bogus");
  require_one_line_error({"train"}, "--config FILE is required");
  require_one_line_error({"train", "--config", dir.path("missing.yaml")}, "missing.yaml");
  require_one_line_error({"train", "--config", config, "train.lrr=1"},
                         "unknown key 'train.lrr' (did you mean 'train.lr'?); valid keys:");
  require_one_line_error({"train", "--config", config, "train.lr=fast"},
                         "train.lr: expected a number");
  require_one_line_error({"train", "--config", config, "notakey"}, "is not KEY=VALUE");
  require_one_line_error({"train", "--config", config, "model.name=nonet", "-o", dir.path("r")},
                         "unknown net 'nonet'");
  require_one_line_error({"train", "--config", config, "train.loss=magic", "-o", dir.path("r")},
                         "train.loss 'magic' is not a registered loss");
  require_one_line_error({"train", "--config", config, "--resume", "-o", dir.path("empty")},
                         "nothing to resume");
  const std::string bad_yaml = dir.write_text("bad.yaml", "train: [1, 2\n");
  require_one_line_error({"train", "--config", bad_yaml}, "not valid YAML");

  // Unreadable checkpoints: garbage bytes, a truncated file, weights of another net.
  const std::string garbage = dir.write_text("garbage.safetensors", "this is not a checkpoint");
  require_one_line_error({"eval", "--weights", garbage}, "garbage.safetensors");
  require_one_line_error(
      {"train", "--config", config, "--resume-from", garbage, "-o", dir.path("r")},
      "garbage.safetensors");
  NetOptions o;
  o.num_classes = 5;
  write_safetensors(dir.path("five.safetensors"), create_net("cifrenet", o)->state_dict());
  require_one_line_error({"eval", "--weights", dir.path("five.safetensors"), "--config", config},
                         "the weights do not fit CifreNet");
  auto bytes = data::read_file(dir.path("five.safetensors"));
  bytes.resize(bytes.size() / 2);
  data::write_file(dir.path("cut.safetensors"), bytes);
  require_one_line_error(
      {"predict", "--weights", dir.path("cut.safetensors"), "--config", config, config},
      "cut.safetensors");

  require_one_line_error({"eval"}, "--weights is required");
  require_one_line_error({"predict", "--weights", dir.path("five.safetensors"), "--config", config,
                          dir.path("nothing.png")},
                         "does not exist");
  require_one_line_error({"summary", "--net", "nope"}, "unknown net 'nope'");
  require_one_line_error({"summary", "--net", "cifrenet", "--size", "12"}, "expected HEIGHTxWIDTH");
  require_one_line_error({"summary", "--net", "cifrenet", "--graph", "both"}, "--graph");
  require_one_line_error({"convert", dir.path("missing.pth"), dir.path("o.safetensors")},
                         "missing.pth");
  require_one_line_error({"check-dataset"}, "give --config FILE or --dataset NAME");
  require_one_line_error({"check-dataset", "--dataset", "camvid", "--root", dir.path("nowhere")},
                         "nowhere");
}

TEST_CASE("rtseg --help and train --keys print and succeed", "[app][commands]") {
  const CliResult h = rtseg_cli({"--help"});
  REQUIRE(h.status == 0);
  for (const char* cmd : {"train", "eval", "predict", "summary", "convert", "check-dataset"}) {
    REQUIRE(h.out.find(cmd) != std::string::npos);
    const CliResult sub = rtseg_cli({cmd, "--help"});
    REQUIRE(sub.status == 0);
    REQUIRE(sub.out.find("Usage") != std::string::npos);
  }
  const CliResult k = rtseg_cli({"train", "--keys"});
  REQUIRE(k.status == 0);
  REQUIRE(k.out.find("train.lr = 0.01") != std::string::npos);
  REQUIRE(k.out.find("ohem") != std::string::npos);
}
