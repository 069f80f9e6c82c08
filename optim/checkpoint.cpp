#include "optim/checkpoint.h"

#include <cmath>
#include <cstring>
#include <map>

#include "core/autograd.h"
#include "core/safetensors.h"
#include "layers/state_dict.h"

namespace rtseg {

namespace {

const std::string kModelPrefix = kCheckpointModelPrefix;
const std::string kMomentumPrefix = kCheckpointMomentumPrefix;

std::string encode_generator(const Generator& g) {
  const Generator::State s = g.state();
  uint64_t spare_bits;
  std::memcpy(&spare_bits, &s.spare, 8);
  return fmt::format("{:016x} {:016x} {:016x} {:016x} {} {:016x}", s.s[0], s.s[1], s.s[2], s.s[3],
                     s.has_spare ? 1 : 0, spare_bits);
}

Generator::State decode_generator(const std::string& text, const std::string& where) {
  Generator::State s{};
  unsigned long long w[4], spare_bits;
  int has_spare;
  RTSEG_CHECK(std::sscanf(text.c_str(), "%llx %llx %llx %llx %d %llx", &w[0], &w[1], &w[2], &w[3],
                          &has_spare, &spare_bits) == 6,
              "{}: malformed generator state '{}'", where, text);
  for (int i = 0; i < 4; ++i) s.s[i] = w[i];
  s.has_spare = has_spare != 0;
  const uint64_t bits = spare_bits;
  std::memcpy(&s.spare, &bits, 8);
  return s;
}

// Parameter names in the optimizer's flat order (group by group).
std::vector<std::string> optimizer_param_names(const Module& model, const SGD& optimizer) {
  std::map<const TensorImpl*, std::string> names;
  for (const auto& [name, t] : model.named_parameters()) names[t.impl_ptr().get()] = name;
  std::vector<std::string> out;
  for (const ParamGroup& g : optimizer.groups()) {
    for (const Tensor& p : g.params) {
      auto it = names.find(p.impl_ptr().get());
      RTSEG_CHECK(it != names.end(),
                  "checkpoint: the optimizer holds a tensor that is not a parameter of the model");
      out.push_back(it->second);
    }
  }
  return out;
}

std::string metadata_value(const std::map<std::string, std::string>& m, const std::string& key,
                           const std::string& path) {
  auto it = m.find(key);
  RTSEG_CHECK(it != m.end(), "{}: checkpoint metadata lacks '{}'", path, key);
  return it->second;
}

double parse_double(const std::string& text, const std::string& what, const std::string& path) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    RTSEG_CHECK(used == text.size(), "");
    return v;
  } catch (...) {
    fail("{}: checkpoint field '{}' is not a number: '{}'", path, what, text);
  }
}

}  // namespace

NamedGenerators model_generators(Module& model) { return model.named_generators(); }

void save_checkpoint(const std::string& path, const Module& model, const SGD& optimizer,
                     const TrainingPosition& position, const NamedGenerators& generators) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : model.state_dict()) tensors.emplace_back(kModelPrefix + name, t);
  const std::vector<std::string> names = optimizer_param_names(model, optimizer);
  SGD& opt = const_cast<SGD&>(optimizer);  // read-only use of the buffers
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor& buf = opt.momentum_buffers()[i];
    if (buf.defined()) tensors.emplace_back(kMomentumPrefix + names[i], buf);
  }
  std::map<std::string, std::string> meta;
  meta["format"] = kCheckpointFormat;
  meta["epoch"] = std::to_string(position.epoch);
  meta["iteration"] = std::to_string(position.iteration);
  meta["best_metric"] = fmt::format("{:.17g}", position.best_metric);
  meta["config"] = position.config;
  meta["optimizer/steps"] = std::to_string(optimizer.steps_taken());
  for (size_t g = 0; g < optimizer.groups().size(); ++g) {
    meta[fmt::format("optimizer/group{}/lr", g)] =
        fmt::format("{:.17g}", optimizer.groups()[g].hyper.lr);
  }
  for (const auto& [name, gen] : generators) meta["rng/" + name] = encode_generator(*gen);
  write_safetensors(path, tensors, meta);
}

bool is_training_checkpoint(const SafetensorsFile& file) {
  auto it = file.metadata().find("format");
  return it != file.metadata().end() && it->second == kCheckpointFormat;
}

TrainingPosition load_checkpoint(const std::string& path, Module& model, SGD& optimizer,
                                 const NamedGenerators& generators) {
  SafetensorsFile file = SafetensorsFile::read(path);
  const auto& meta = file.metadata();
  RTSEG_CHECK(meta.count("format") && meta.at("format") == kCheckpointFormat,
              "{}: not an rtseg training checkpoint (use it as weights instead)", path);
  // Validate everything first.
  std::map<std::string, Tensor> model_tensors;
  std::map<std::string, Tensor> momentum;
  for (const std::string& name : file.names()) {
    if (name.rfind(kModelPrefix, 0) == 0) {
      model_tensors[name.substr(kModelPrefix.size())] = file.tensor(name);
    } else if (name.rfind(kMomentumPrefix, 0) == 0) {
      momentum[name.substr(kMomentumPrefix.size())] = file.tensor(name);
    } else {
      fail("{}: unexpected entry '{}' in a training checkpoint", path, name);
    }
  }
  const std::vector<std::string> names = optimizer_param_names(model, optimizer);
  std::vector<Tensor> params;
  for (const ParamGroup& g : optimizer.groups())
    params.insert(params.end(), g.params.begin(), g.params.end());
  for (const auto& [name, t] : momentum) {
    const auto it = std::find(names.begin(), names.end(), name);
    RTSEG_CHECK(it != names.end(), "{}: momentum for '{}', which the optimizer does not hold", path,
                name);
    const Tensor& p = params[it - names.begin()];
    RTSEG_CHECK(t.shape() == p.shape(), "{}: momentum of '{}' is {} but the parameter is {}", path,
                name, shape_str(t.shape()), shape_str(p.shape()));
    const int64_t bad = count_non_finite(t);
    RTSEG_CHECK(bad == 0,
                "{}: the momentum of '{}' holds {} non-finite value{} (NaN or Inf) of {}; refusing "
                "this checkpoint",
                path, name, bad, bad == 1 ? "" : "s", t.numel());
  }
  std::vector<Generator::State> states;
  for (const auto& [name, gen] : generators) {
    states.push_back(decode_generator(metadata_value(meta, "rng/" + name, path), path));
  }
  const size_t groups = optimizer.groups().size();
  std::vector<double> lrs;
  for (size_t g = 0; g < groups; ++g) {
    lrs.push_back(parse_double(metadata_value(meta, fmt::format("optimizer/group{}/lr", g), path),
                               "lr", path));
    RTSEG_CHECK(std::isfinite(lrs.back()) && lrs.back() >= 0,
                "{}: the learning rate of group {} is {}; refusing "
                "this checkpoint",
                path, g, lrs.back());
  }
  TrainingPosition pos;
  pos.epoch =
      static_cast<int64_t>(parse_double(metadata_value(meta, "epoch", path), "epoch", path));
  pos.iteration = static_cast<int64_t>(
      parse_double(metadata_value(meta, "iteration", path), "iteration", path));
  pos.best_metric = parse_double(metadata_value(meta, "best_metric", path), "best_metric", path);
  pos.config = metadata_value(meta, "config", path);
  const int64_t steps = static_cast<int64_t>(
      parse_double(metadata_value(meta, "optimizer/steps", path), "steps", path));
  // The model load validates its names and shapes before it writes anything.
  try {
    load_state_dict(model, model_tensors, true);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  autograd::NoGradGuard no_grad;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = momentum.find(names[i]);
    Tensor& buf = optimizer.momentum_buffers()[i];
    buf = it == momentum.end() ? Tensor()
                               : it->second.to(params[i].dtype()).to(params[i].device()).clone();
  }
  optimizer.set_steps_taken(steps);
  for (size_t g = 0; g < groups; ++g) optimizer.groups()[g].hyper.lr = lrs[g];
  for (size_t i = 0; i < generators.size(); ++i) generators[i].second->set_state(states[i]);
  return pos;
}

}  // namespace rtseg
