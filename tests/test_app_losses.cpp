// The multi-head objectives of `rtseg train` end to end: PIDNet-S with its loss and ICFRNet with
// segmentation + complexity losses train a step on synthetic scenes through the command, taking
// the heads by name from the net; a loss given a net without those heads says what is missing.
#include "app_test_util.h"
#include "apps/lib/csv_log.h"

using namespace rtseg;
using namespace rtseg::testing;
namespace fs = std::filesystem;

TEST_CASE("train.loss pidnet and icfrnet train their nets through the named heads",
          "[app][losses]") {
  TempDir dir;
  const std::string config = tiny_config(dir);
  const std::vector<std::string> common{"data.synthetic_size=[64, 64]", "train.iterations=2",
                                        "train.class_weights=[]", "train.val_interval=2"};
  struct Case {
    const char* net;
    std::vector<std::string> settings;
    const char* term;  // a loss term only that objective logs
  };
  for (const Case& c :
       {Case{"pidnet-s", {"train.loss=pidnet"}, "boundary"},
        Case{"icfrnet", {"train.loss=icfrnet", "train.complexity_source=proxy"}, "ic"}}) {
    INFO(c.net);
    std::vector<std::string> args{"train", "--config",      config,
                                  "-o",    dir.path(c.net), std::string("model.name=") + c.net};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), c.settings.begin(), c.settings.end());
    const CliResult r = rtseg_cli(args);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto rows = app::read_csv(dir.path(c.net) + "/train_log.csv");
    REQUIRE(rows.size() == 3);
    bool has_term = false;
    for (const std::string& column : rows[0])
      has_term = has_term || column.find(c.term) != std::string::npos;
    REQUIRE(has_term);
  }
  // CIFReNet has one head: the PIDNet objective names the one it misses.
  std::vector<std::string> wrong{"train", "--config",        config,
                                 "-o",    dir.path("wrong"), "train.loss=pidnet"};
  wrong.insert(wrong.end(), common.begin(), common.end());
  require_one_line_error(
      wrong,
      "train.loss pidnet needs the net's output 'aux_p' (a PIDNet-family training "
      "graph); CifreNet gives main");
}
