// What `rtseg` refuses instead of losing work or answering wrong: a new run into a folder that
// holds one, outputs that would overwrite each other, and the commands it prints to continue a run.
#include <csignal>

#include "app_test_util.h"
#include "apps/lib/csv_log.h"
#include "apps/lib/experiment.h"
#include "apps/lib/interrupt.h"
#include "apps/lib/output_names.h"
#include "apps/lib/run_folder.h"
#include "apps/lib/trainer.h"
#include "data/synthetic.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;
namespace fs = std::filesystem;

TEST_CASE("rtseg train refuses a run folder that holds a run unless --resume or --overwrite", "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=2"}).status == 0);
  const auto last = data::read_file(run + "/last.safetensors");
  const auto log = data::read_file(run + "/train_log.csv");

  // The same command again: refused, nothing touched, the way to continue spelt out.
  require_one_line_error({"train", "--config", config, "-o", run, "train.iterations=2"},
                         "already holds a run (best.safetensors, last.safetensors, train_log.csv); continue it with "
                         "`rtseg train --config " + config + " train.iterations=2 -o " + run + " --resume`");
  REQUIRE(data::read_file(run + "/last.safetensors") == last);
  REQUIRE(data::read_file(run + "/train_log.csv") == log);
  require_one_line_error({"train", "--config", config, "-o", run, "--overwrite", "--resume"},
                         "--overwrite starts a new run");

  // --overwrite replaces the run's files and keeps the user's own.
  const std::string note = dir.write_text("run/notes.txt", "mine");
  const CliResult r = rtseg_cli({"train", "--config", config, "-o", run, "--overwrite", "train.iterations=1"});
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

TEST_CASE("the resume command names the config, the settings and the run folder", "[app][refusals]") {
  REQUIRE(resume_command("configs/a.yaml", {"train.lr=0.1", "data.synthetic_size=[32, 64]"}, "runs/my run") ==
          "rtseg train --config configs/a.yaml train.lr=0.1 'data.synthetic_size=[32, 64]' -o 'runs/my run' --resume");
  REQUIRE(resume_command("it's.yaml", {}, "r") == "rtseg train --config 'it'\\''s.yaml' -o r --resume");

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
  REQUIRE(out.str().find("continue with `rtseg train --config " + config + " -o " + run + " --resume`") !=
          std::string::npos);
}

TEST_CASE("predict output names never collide within a run", "[app][refusals]") {
  TempDir dir;
  const std::string s1 = dir.write_text("s1/x.png", ""), s2 = dir.write_text("s2/x.png", "");
  const std::string deep = dir.write_text("s3/deeper/x.png", "");
  const std::string jpg = dir.write_text("s1/a.jpg", ""), png = dir.write_text("s1/a.png", "");
  const std::string odd = dir.write_text("a.jpg.png", ""), lone = dir.write_text("s2/y.png", "");
  const NamedInputs n = name_outputs({s1, s2, deep, jpg, png, odd, lone, s1, dir.root() + "/s1/../s1/x.png"});
  REQUIRE(n.files == std::vector<std::string>{s1, s2, deep, jpg, png, odd, lone});
  REQUIRE(n.names == std::vector<std::string>{"s1/x", "s2/x", "s3/deeper/x", "a.jpg", "a.png", "a.jpg~2", "y"});
  std::string notes;
  for (const std::string& line : n.notes) notes += line + "\n";
  INFO(notes);
  REQUIRE(notes.find(s1 + " was given 3 times: predicted once") != std::string::npos);
  REQUIRE(notes.find("3 inputs are named x: their outputs are s1/x_*, s2/x_*, s3/deeper/x_*") != std::string::npos);
  REQUIRE(notes.find("2 inputs are named a: their outputs are a.jpg_*, a.png_*") != std::string::npos);
  REQUIRE(notes.find("a.jpg.png: outputs named a.jpg~2_* (the name was taken)") != std::string::npos);
}

TEST_CASE("rtseg predict writes one output set per input even where stems clash", "[app][refusals]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::string run = dir.path("run");
  REQUIRE(rtseg_cli({"train", "--config", config, "-o", run, "train.iterations=1"}).status == 0);
  // Two scenes that differ, under one name in two folders.
  data::write_png(dir.path("s1/x.png"), data::render_street_scene(32, 32, 1).image);
  data::write_png(dir.path("s2/x.png"), data::render_street_scene(48, 32, 2).image);
  const CliResult p = rtseg_cli({"predict", "--weights", run + "/last.safetensors", dir.path("s1"), dir.path("s2"),
                                 "-o", dir.path("pred")});
  INFO(p.out << p.err);
  REQUIRE(p.status == 0);
  REQUIRE(p.out.find("note: 2 inputs are named x") != std::string::npos);
  REQUIRE(data::read_label(dir.path("pred/s1/x_label.png")).width == 32);
  REQUIRE(data::read_label(dir.path("pred/s2/x_label.png")).width == 48);
  REQUIRE_FALSE(fs::exists(dir.path("pred/x_label.png")));
}
