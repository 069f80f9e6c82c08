#include "nets/summary.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/profile.h"

namespace rtseg {

namespace {

MacCounts convert(const OpCost& c) {
  const double e = static_cast<double>(c.elements);
  MacCounts m;
  switch (c.kind) {
    case OpCost::Kind::Conv:
      m.conv = m.thop2022 = static_cast<double>(c.macs);
      m.thop2021 = m.conv + (c.bias ? e : 0.0);
      break;
    case OpCost::Kind::Linear:
      m.conv = m.thop2021 = m.thop2022 = static_cast<double>(c.macs);
      break;
    case OpCost::Kind::BatchNorm:
      m.thop2021 = 2 * e;
      m.thop2022 = 4 * e;
      break;
    case OpCost::Kind::PReLU:
      m.thop2021 = m.thop2022 = e;
      break;
    case OpCost::Kind::LeakyReLU:
      m.thop2021 = e;
      break;
    case OpCost::Kind::AvgPool:
      m.thop2021 = m.thop2022 = e;
      break;
    case OpCost::Kind::AdaptiveAvgPool:
      m.thop2021 = m.thop2022 = e * static_cast<double>(c.window + 1);
      break;
  }
  return m;
}

// Attributes every op's cost to the innermost module running it.
class SummaryObserver : public ForwardObserver {
 public:
  void on_op(const OpCost& cost) override {
    own[stack.empty() ? nullptr : stack.back()] += convert(cost);
  }
  void on_enter(const void* owner, const Tensor*) override { stack.push_back(owner); }
  void on_exit(const void* owner, const Tensor* output) override {
    if (!stack.empty()) stack.pop_back();
    if (output && output->defined()) shapes[owner] = output->shape();
  }
  bool shapes_only() const override { return true; }

  std::vector<const void*> stack;
  std::map<const void*, MacCounts> own;
  std::map<const void*, Shape> shapes;
};

int depth_of(const std::string& path) {
  if (path.empty()) return 0;
  int d = 1;
  for (char ch : path) d += ch == '.';
  return d;
}

std::string format_count(double v) {
  if (v >= 1e9) return fmt::format("{:.3f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.3f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.3f} K", v / 1e3);
  return fmt::format("{:.0f}", v);
}

}  // namespace

ModelSummary summarize(Module& net, const Shape& input) {
  const bool was_training = net.is_training();
  net.eval();
  SummaryObserver observer;
  {
    ObserverGuard guard(&observer);
    autograd::NoGradGuard no_grad;
    Tensor x =
        Tensor::zeros(input, net.parameters().empty() ? DType::F32 : net.parameters()[0].dtype(),
                      net.parameters().empty() ? Device::cpu() : net.parameters()[0].device());
    Tensor y = net.forward(x);
  }
  net.train(was_training);

  ModelSummary s;
  s.input = input;
  for (const auto& [path, m] : net.named_modules()) {
    ModuleSummary row;
    row.path = path;
    row.type = m->type_name();
    row.depth = depth_of(path);
    row.params = m->num_parameters();
    auto shape = observer.shapes.find(m);
    if (shape != observer.shapes.end()) row.output = shape->second;
    for (const auto& [sub_path, sub] : m->named_modules()) {
      auto it = observer.own.find(sub);
      if (it != observer.own.end()) row.macs += it->second;
    }
    s.modules.push_back(row);
  }
  // Ops that ran outside any module scope belong to the whole net.
  auto loose = observer.own.find(nullptr);
  if (loose != observer.own.end()) s.modules.front().macs += loose->second;
  return s;
}

std::string format_summary(const ModelSummary& s, int max_depth) {
  std::string out = fmt::format("{:<44} {:<22} {:<20} {:>12} {:>12} {:>12} {:>12}\n", "module",
                                "type", "output", "params", "conv MACs", "thop-2021", "thop-2022");
  for (const ModuleSummary& m : s.modules) {
    if (m.depth > max_depth) continue;
    const std::string name =
        m.path.empty() ? "(total)" : std::string(2 * (m.depth - 1), ' ') + m.path;
    out += fmt::format("{:<44} {:<22} {:<20} {:>12} {:>12} {:>12} {:>12}\n", name, m.type,
                       m.output.empty() ? "-" : shape_str(m.output), m.params,
                       format_count(m.macs.conv), format_count(m.macs.thop2021),
                       format_count(m.macs.thop2022));
  }
  return out;
}

std::string summary_json(const ModelSummary& s) {
  nlohmann::ordered_json j;
  j["input"] = s.input;
  j["params"] = s.total().params;
  j["macs"] = {{"conv", s.total().macs.conv},
               {"thop2021", s.total().macs.thop2021},
               {"thop2022", s.total().macs.thop2022}};
  nlohmann::ordered_json mods = nlohmann::ordered_json::array();
  for (const ModuleSummary& m : s.modules) {
    mods.push_back(
        {{"path", m.path},
         {"type", m.type},
         {"output", m.output},
         {"params", m.params},
         {"macs",
          {{"conv", m.macs.conv}, {"thop2021", m.macs.thop2021}, {"thop2022", m.macs.thop2022}}}});
  }
  j["modules"] = mods;
  return j.dump(2);
}

}  // namespace rtseg
