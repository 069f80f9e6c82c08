// rtseg summary --net NAME --classes N --size HxW [--graph train|infer] [--json] [--depth D]
#include "apps/commands.h"
#include "apps/lib/config.h"
#include "nets/registry.h"
#include "nets/summary.h"

namespace rtseg::app {

namespace {

struct SummaryArgs {
  std::string net, size = "1024x2048", graph = "infer", variant = "cityscapes";
  int64_t classes = 19, batch = 1;
  int depth = 1;
  bool json = false;
};

void run_summary(const SummaryArgs& a, CommandContext& ctx) {
  const auto [h, w] = parse_size(a.size, "summary --size");
  NetOptions o;
  o.num_classes = a.classes;
  o.dataset = a.variant;
  o.graph = a.graph;
  auto net = create_net(a.net, o);
  const ModelSummary s = summarize(*net, {a.batch, 3, h, w});
  if (a.json) {
    ctx.out << summary_json(s) << "\n";
    return;
  }
  ctx.out << fmt::format("{} ({} graph), {} classes, input {}x3x{}x{}\n", a.net, a.graph, a.classes,
                         a.batch, h, w);
  ctx.out << format_summary(s, a.depth);
}

std::string net_list() {
  std::string out;
  for (const NetInfo& n : registered_nets()) out += "\n  " + n.name + ": " + n.description;
  return out;
}

}  // namespace

void add_summary_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<SummaryArgs>();
  CLI::App* cmd = app.add_subcommand(
      "summary", "Parameters, MACs (conv-only, thop-2021, thop-2022) and output shapes per module");
  cmd->add_option("-n,--net", args->net, "net name; registered:" + net_list())->required();
  cmd->add_option("--classes", args->classes, "number of classes")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--size", args->size, "input HxW")->capture_default_str();
  cmd->add_option("--batch", args->batch, "input batch")->capture_default_str()->check(at_least(1));
  cmd->add_option("--graph", args->graph, "infer, or train (with auxiliary heads)")
      ->capture_default_str()
      ->check(CLI::IsMember({"infer", "train"}));
  cmd->add_option("--variant", args->variant,
                  "dataset-specific structure: cityscapes, camvid or helen")
      ->capture_default_str();
  cmd->add_option("--depth", args->depth, "table depth (0: the whole net only)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_flag("--json", args->json, "the whole summary as JSON");
  cmd->callback([args, &context] { run_summary(*args, context); });
}

}  // namespace rtseg::app
