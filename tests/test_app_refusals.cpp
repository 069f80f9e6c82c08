// What `rtseg` refuses instead of losing work or answering wrong: a new run into a folder that
// holds one, outputs that would overwrite each other, and the commands it prints to continue a run.
#include <cmath>
#include <csignal>

#include "app_test_util.h"
#include "apps/lib/csv_log.h"
#include "apps/lib/experiment.h"
#include "apps/lib/interrupt.h"
#include "apps/lib/output_names.h"
#include "apps/lib/run_folder.h"
#include "apps/lib/trainer.h"
#include "core/safetensors.h"
#include "data/synthetic.h"
#include "nets/registry.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;
namespace fs = std::filesystem;

TEST_CASE("rtseg train refuses a run folder that holds a run unless --resume or --overwrite",
          "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=2"}).status == 0);
  const auto last = data::read_file(run + "/last.safetensors");
  const auto log = data::read_file(run + "/train_log.csv");

  // The same command again: refused, nothing touched, the way to continue spelt out.
  require_one_line_error(
      {"train", "--config", config, "-o", run, "train.iterations=2"},
      "already holds a run (best.safetensors, last.safetensors, train_log.csv); continue it with "
      "`rtseg train --config " +
          config + " train.iterations=2 -o " + run + " --resume`");
  REQUIRE(data::read_file(run + "/last.safetensors") == last);
  REQUIRE(data::read_file(run + "/train_log.csv") == log);
  require_one_line_error({"train", "--config", config, "-o", run, "--overwrite", "--resume"},
                         "--overwrite starts a new run");

  // --overwrite replaces the run's files and keeps the user's own.
  const std::string note = dir.write_text("run/notes.txt", "mine");
  const CliResult r =
      rtseg_cli({"train", "--config", config, "-o", run, "--overwrite", "train.iterations=1"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(fs::exists(note));
  REQUIRE(read_csv(run + "/train_log.csv").size() == 2);  // header + iteration 1 of the new run
  int events = 0;
  for (const auto& e : fs::directory_iterator(run)) {
    events += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  REQUIRE(events == 1);  // the old run's event file went with it

  // A folder with only other files is not a run.
  const std::string other = dir.path("other");
  dir.write_text("other/readme.txt", "x");
  REQUIRE(run_files_in(other).empty());
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", other, "train.iterations=1"}).status == 0);
}

TEST_CASE("the resume command names the config, the settings and the run folder",
          "[app][refusals]") {
  REQUIRE(resume_command("configs/a.yaml", {"train.lr=0.1", "data.synthetic_size=[32, 64]"},
                         "runs/my run") ==
          "rtseg train --config configs/a.yaml train.lr=0.1 'data.synthetic_size=[32, 64]' -o "
          "'runs/my run' --resume");
  REQUIRE(resume_command("it's.yaml", {}, "r") ==
          "rtseg train --config 'it'\\''s.yaml' -o r --resume");

  // After Ctrl-C in a custom folder, the printed command has -o and the settings.
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("custom");
  Config c = load_experiment_config(config, {"output.dir=" + run});
  std::ostringstream out;
  TrainOptions options;
  options.out = &out;
  options.config_path = config;
  options.after_iteration = [](int64_t it) {
    if (it == 1) std::raise(SIGINT);
  };
  const TrainResult t = train(c, options);
  clear_interrupt();
  REQUIRE(t.interrupted);
  INFO(out.str());
  REQUIRE(out.str().find("continue with `rtseg train --config " + config + " -o " + run +
                         " --resume`") != std::string::npos);
}

TEST_CASE("predict output names never collide within a run", "[app][refusals]") {
  TempDir dir;
  const std::string s1 = dir.write_text("s1/x.png", ""), s2 = dir.write_text("s2/x.png", "");
  const std::string deep = dir.write_text("s3/deeper/x.png", "");
  const std::string jpg = dir.write_text("s1/a.jpg", ""), png = dir.write_text("s1/a.png", "");
  const std::string odd = dir.write_text("a.jpg.png", ""), lone = dir.write_text("s2/y.png", "");
  const NamedInputs n =
      name_outputs({s1, s2, deep, jpg, png, odd, lone, s1, dir.root() + "/s1/../s1/x.png"});
  REQUIRE(n.files == std::vector<std::string>{s1, s2, deep, jpg, png, odd, lone});
  REQUIRE(n.names == std::vector<std::string>{"s1/x", "s2/x", "s3/deeper/x", "a.jpg", "a.png",
                                              "a.jpg~2", "y"});
  std::string notes;
  for (const std::string& line : n.notes) notes += line + "\n";
  INFO(notes);
  REQUIRE(notes.find(s1 + " was given 3 times: predicted once") != std::string::npos);
  REQUIRE(notes.find("3 inputs are named x: their outputs are s1/x_*, s2/x_*, s3/deeper/x_*") !=
          std::string::npos);
  REQUIRE(notes.find("2 inputs are named a: their outputs are a.jpg_*, a.png_*") !=
          std::string::npos);
  REQUIRE(notes.find("a.jpg.png: outputs named a.jpg~2_* (the name was taken)") !=
          std::string::npos);
}

TEST_CASE("rtseg predict writes one output set per input even where stems clash",
          "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=1"}).status == 0);
  // Two scenes that differ, under one name in two folders.
  data::write_png(dir.path("s1/x.png"), data::render_street_scene(32, 32, 1).image);
  data::write_png(dir.path("s2/x.png"), data::render_street_scene(48, 32, 2).image);
  const CliResult p = rtseg_cli({"predict", "--weights", run + "/last.safetensors", dir.path("s1"),
                                 dir.path("s2"), "-o", dir.path("pred")});
  INFO(p.out << p.err);
  REQUIRE(p.status == 0);
  REQUIRE(p.out.find("note: 2 inputs are named x") != std::string::npos);
  REQUIRE(data::read_label(dir.path("pred/s1/x_label.png")).width == 32);
  REQUIRE(data::read_label(dir.path("pred/s2/x_label.png")).width == 48);
  REQUIRE_FALSE(fs::exists(dir.path("pred/x_label.png")));
}

TEST_CASE("labels that decode to no class stop check-dataset, train and eval", "[app][refusals]") {
  TempDir dir;
  // Index labels (class ids 0 and 1) read with a colour list: no pixel's colour is a class.
  data::write_png(dir.path("l/img.png"), data::render_street_scene(32, 32, 3).image);
  data::write_label_png(dir.path("l/lab.png"), data::Label(32, 32, 1));
  dir.write_text("l/classes.txt", "a 10 20 30\nb 40 50 60\n");
  dir.write_text("l/list.txt",
                 "img.png lab.png\nimg.png lab.png\nimg.png lab.png\nimg.png lab.png\n");
  const std::vector<std::string> data_flags{
      "data.dataset=list",        "data.root=" + dir.path("l"), "data.class_file=classes.txt",
      "data.label_format=colour", "train.class_weights=[1, 1]", "data.train_split=list.txt",
      "data.val_split=list.txt"};
  const std::string config = tiny_config(dir);
  std::vector<std::string> check{"check-dataset", "--config", config};
  check.insert(check.end(), data_flags.begin(), data_flags.end());
  const CliResult c = rtseg_cli(check);
  INFO(c.out << c.err);
  REQUIRE(c.status == 1);
  REQUIRE(c.out.find("error: not a single label pixel is a class") != std::string::npos);

  // Training stops once a whole epoch (2 batches here) had no class pixel, before any checkpoint.
  std::vector<std::string> train{"train", "--config",      config,
                                 "-o",    dir.path("run"), "model.classes=2"};
  train.insert(train.end(), data_flags.begin(), data_flags.end());
  require_one_line_error(
      train, "2 training batches in a row (to iteration 2) hold not a single pixel of a class");
  REQUIRE_FALSE(fs::exists(dir.path("run") + "/last.safetensors"));

  // eval of a good checkpoint on such a split: an error, not a NaN mIoU.
  std::vector<std::string> good{"train",
                                "--config",
                                config,
                                "-o",
                                dir.path("good"),
                                "train.iterations=1",
                                "model.classes=2",
                                "data.dataset=list",
                                "data.root=" + dir.path("l"),
                                "data.class_file=classes.txt",
                                "data.train_split=list.txt",
                                "data.val_split=",
                                "train.class_weights=[1, 1]"};
  const CliResult g = rtseg_cli(good);
  INFO(g.out << g.err);
  REQUIRE(g.status == 0);
  std::vector<std::string> eval{"eval", "--weights", dir.path("good") + "/last.safetensors"};
  eval.insert(eval.end(), data_flags.begin(), data_flags.end());
  require_one_line_error(eval, "4 labelled images and not a single pixel of a class among them");
}

namespace {

// A copy of the safetensors file `from` with element 0 of `tensor` set to `value`.
std::string poisoned_copy(const TempDir& dir, const std::string& from, const std::string& tensor,
                          float value, const std::string& name) {
  const SafetensorsFile f = SafetensorsFile::read(from);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& n : f.names()) {
    tensors.emplace_back(n, f.tensor(n).clone());
    if (n == tensor) tensors.back().second.data<float>()[0] = value;
  }
  const std::string path = dir.path(name);
  write_safetensors(path, tensors, f.metadata());
  return path;
}

}  // namespace

TEST_CASE("weights, statistics and momentum holding NaN or Inf are refused, naming the tensor",
          "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=2"}).status == 0);
  const std::string last = run + "/last.safetensors";
  data::write_png(dir.path("a.png"), data::render_street_scene(32, 32, 4).image);

  std::string weight, variance, momentum;
  for (const std::string& n : SafetensorsFile::read(last).names()) {
    if (weight.empty() && n.find("weight") != std::string::npos && n.rfind("model/", 0) == 0)
      weight = n;
    if (variance.empty() && n.find("running_var") != std::string::npos) variance = n;
    if (momentum.empty() && n.rfind("optimizer/momentum/", 0) == 0) momentum = n;
  }
  REQUIRE(!weight.empty());
  REQUIRE(!variance.empty());
  REQUIRE(!momentum.empty());
  const std::string nan_weight = poisoned_copy(dir, last, weight, NAN, "nan_weight.safetensors");
  const std::string inf_var = poisoned_copy(dir, last, variance, INFINITY, "inf_var.safetensors");
  const std::string nan_momentum =
      poisoned_copy(dir, last, momentum, NAN, "nan_momentum.safetensors");
  const std::string w = weight.substr(std::string("model/").size());
  const std::string v = variance.substr(std::string("model/").size());

  require_one_line_error(
      {"predict", "--weights", nan_weight, dir.path("a.png"), "-o", dir.path("p")},
      "'" + w + "' holds 1 non-finite value (NaN or Inf)");
  require_one_line_error({"eval", "--weights", inf_var}, "'" + v + "' holds 1 non-finite value");
  REQUIRE_FALSE(fs::exists(dir.path("p") + "/a_label.png"));
  // Resuming from them: the model's tensors and the optimizer's momentum alike.
  require_one_line_error(
      {"train", "--config", config, "-o", dir.path("r1"), "--resume-from", inf_var},
      "'" + v + "' holds 1 non-finite value");
  require_one_line_error(
      {"train", "--config", config, "-o", dir.path("r2"), "--resume-from", nan_momentum},
      "the momentum of '" + momentum.substr(std::string("optimizer/momentum/").size()) +
          "' holds 1 non-finite value");
  // As starting weights of a new run (model.weights), too.
  require_one_line_error(
      {"train", "--config", config, "-o", dir.path("r3"), "model.weights=" + nan_weight},
      "holds 1 non-finite value");
}

TEST_CASE(
    "model.weights must fit the net unless a partial load is asked for, and never fit nothing",
    "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  // Weights of another net (PIDNet-S) and a backbone-only part of CIFReNet's own.
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", dir.path("cif"), "train.iterations=1"})
              .status == 0);
  const SafetensorsFile own = SafetensorsFile::read(dir.path("cif") + "/last.safetensors");
  std::vector<std::pair<std::string, Tensor>> part, alien;
  for (const std::string& n : own.names()) {
    if (n.rfind("model/", 0) != 0) continue;
    if (part.size() < 5) part.emplace_back(n.substr(6), own.tensor(n));
    alien.emplace_back("other_net." + n.substr(6), own.tensor(n));
  }
  write_safetensors(dir.path("part.safetensors"), part);
  write_safetensors(dir.path("alien.safetensors"), alien);

  require_one_line_error({"train", "--config", config, "-o", dir.path("a"),
                          "model.weights=" + dir.path("part.safetensors")},
                         "set model.weights_partial=true to load only the tensors that fit");
  const CliResult ok =
      rtseg_cli({"train", "--config", config, "-o", dir.path("b"), "train.iterations=1",
                 "model.weights=" + dir.path("part.safetensors"), "model.weights_partial=true"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.status == 0);
  REQUIRE(ok.out.find("5 loaded") != std::string::npos);
  require_one_line_error(
      {"train", "--config", config, "-o", dir.path("c"), "model.weights_partial=true",
       "model.weights=" + dir.path("alien.safetensors")},
      "not one tensor fits cifrenet");
}

TEST_CASE("weights of another format are named; convert shows a safetensors file's own error",
          "[app][refusals]") {
  TempDir dir;
  const std::string zip = dir.write_bytes("ck.pth", {'P', 'K', 3, 4, 'x', 'y', 'z', 0, 0, 0, 0, 0});
  const std::string yaml = tiny_config(dir);
  data::write_png(dir.path("a.png"), data::render_street_scene(16, 16, 1).image);
  require_one_line_error(
      {"eval", "--weights", zip, "--config", yaml},
      "ck.pth: not a safetensors file: this is a PyTorch checkpoint (a zip archive, as torch.save "
      "writes): convert it with `rtseg convert");
  require_one_line_error({"predict", "--weights", yaml, dir.path("a.png")},
                         "this is a text file (a YAML config or a list?), not weights");
  // A truncated safetensors file: its validation error, never the Python converter's.
  const std::vector<uint8_t> header = {60, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', '"'};
  const std::string broken = dir.write_bytes("broken.safetensors", header);
  const CliResult c = rtseg_cli(
      {"convert", broken, dir.path("out.safetensors"), "--python", "/nonexistent/python"});
  INFO(c.out << c.err);
  REQUIRE(c.status != 0);
  REQUIRE(
      c.err.find("broken.safetensors: header length 60 runs past the end of the file (12 bytes)") !=
      std::string::npos);
  REQUIRE(c.out.find("running:") == std::string::npos);
}

TEST_CASE("numeric flag limits read as numbers", "[app][refusals]") {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"summary", "--classes", "0"},
        std::vector<std::string>{"check-dataset", "--config", tiny_config(dir), "--threads",
                                 "0"}}) {
    const CliResult r = rtseg_cli(args);
    INFO(r.err);
    REQUIRE(r.status != 0);
    REQUIRE(r.err.find("must be >= 1, got 0") != std::string::npos);
    REQUIRE(r.err.size() < 200);  // not CLI11's 300-digit bound
  }
  const CliResult r =
      rtseg_cli({"check-dataset", "--config", tiny_config(dir), "--max-samples", "-3"});
  REQUIRE(r.err.find("--max-samples: must be >= 0, got -3") != std::string::npos);
  const CliResult n = rtseg_cli({"summary", "--classes", "many"});
  REQUIRE(n.err.find("expected a number, got 'many'") != std::string::npos);
}

TEST_CASE("sizes that leave BatchNorm too few values per channel are refused with the reason",
          "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  // CIFReNet's deepest BatchNorm stack is at 1/8: 8×8 in batches of 2 leaves 2 values per channel.
  require_one_line_error(
      {"train", "--config", config, "-o", dir.path("r"), "data.synthetic_size=[8, 8]"},
      "cifrenet in batches of 2 at 8x8 leaves 2 values per channel to the BatchNorm layers at 1/8 "
      "(1x1 per image); they need at least 8");
  REQUIRE_FALSE(fs::exists(dir.path("r") + "/last.safetensors"));
  // 16×16 in batches of 2 gives 8: trains.
  const CliResult ok = rtseg_cli({"train", "--config", config, "-o", dir.path("ok"),
                                  "data.synthetic_size=[16, 16]", "train.iterations=1"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.status == 0);
  REQUIRE(net_info("pidnet-s").deepest_batch_norm_stride == 32);
}

TEST_CASE("eval checks its output folders before it evaluates", "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=1"}).status == 0);
  const std::string blocker = dir.write_text("blocker", "a file where a folder should go");
  const CliResult r =
      rtseg_cli({"eval", "--weights", run + "/last.safetensors", "-o", blocker + "/eval"});
  INFO(r.out << r.err);
  REQUIRE(r.status != 0);
  REQUIRE(r.err.find("eval -o: cannot create the folder " + blocker + "/eval") !=
          std::string::npos);
  REQUIRE(r.out.find("evaluating") == std::string::npos);  // failed before the work, not after
  require_one_line_error(
      {"eval", "--weights", run + "/last.safetensors", "--submission", blocker + "/s"},
      "eval --submission: cannot create the folder");
}

namespace {

// Counts flushes: a killed predict run whose stdout is a file must have written a line per image.
class FlushCounter : public std::stringbuf {
 public:
  int flushes = 0;

 protected:
  int sync() override {
    ++flushes;
    return std::stringbuf::sync();
  }
};

}  // namespace

TEST_CASE("predict flushes its output after every image", "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", dir.path("run"), "train.iterations=1"})
              .status == 0);
  for (int i = 0; i < 3; ++i) {
    data::write_png(dir.path("in/" + std::to_string(i) + ".png"),
                    data::render_street_scene(16, 16, i).image);
  }
  FlushCounter buffer;
  std::ostream out(&buffer);
  std::ostringstream err;
  const int status = run_cli({"predict", "--weights", dir.path("run") + "/last.safetensors",
                              dir.path("in"), "-o", dir.path("pred")},
                             {add_predict_command}, out, err, false);
  INFO(buffer.str() << err.str());
  REQUIRE(status == 0);
  // The header, then each image's line was flushed by the time the next began.
  REQUIRE(buffer.flushes >= 4);
}
