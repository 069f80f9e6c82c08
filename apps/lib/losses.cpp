#include "apps/lib/losses.h"

#include <map>

#include "core/ops.h"

namespace rtseg::app {

namespace {

struct Entry {
  std::string description;
  LossFactory factory;
};

class CrossEntropyLoss : public TrainingLoss {
 public:
  explicit CrossEntropyLoss(const LossSetup& s)
      : setup_(s), weights_(class_weight_tensor(s)), rng_(uint64_t(s.train.seed) ^ 0x10556e17ULL) {}

  LossTerms compute(Module& net, const data::Batch& batch) override {
    const Tensor logits =
        logits_at_label_size(net, batch.images, batch.labels.size(1), batch.labels.size(2));
    // The weights are used with probability p; the draw happens only when p is strictly between
    // 0 and 1, so configs without weights never touch the generator.
    const double p = setup_.train.class_weight_prob;
    const bool weighted = weights_.defined() && (p >= 1 || (p > 0 && rng_.uniform() < p));
    const Tensor w = weighted ? weights_ : Tensor();
    Tensor loss;
    if (setup_.train.ce_reduction == "all_pixels") {
      loss = mean(cross_entropy(logits, batch.labels, w, setup_.ignore_index, Reduction::None));
    } else {
      loss = cross_entropy(logits, batch.labels, w, setup_.ignore_index, Reduction::Mean);
    }
    return {loss, {{"ce", loss}}};
  }

  NamedGenerators generators() override { return {{"loss", &rng_}}; }

 private:
  LossSetup setup_;
  Tensor weights_;
  Generator rng_;
};

class OhemLoss : public TrainingLoss {
 public:
  explicit OhemLoss(const LossSetup& s) : setup_(s), weights_(class_weight_tensor(s)) {}

  LossTerms compute(Module& net, const data::Batch& batch) override {
    const Tensor logits =
        logits_at_label_size(net, batch.images, batch.labels.size(1), batch.labels.size(2));
    const Tensor loss = ohem_cross_entropy(logits, batch.labels, setup_.train.ohem_thresh,
                                           setup_.train.ohem_keep, weights_, setup_.ignore_index);
    return {loss, {{"ohem", loss}}};
  }

 private:
  LossSetup setup_;
  Tensor weights_;
};

}  // namespace

// losses_pidnet.cpp
void add_pidnet_losses(std::map<std::string, std::pair<std::string, LossFactory>>& losses);

namespace {

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> losses = [] {
    std::map<std::string, Entry> m = {
        {"ce",
         {"cross-entropy (class weights, mean or all_pixels reduction)",
          [](const LossSetup& s) { return std::make_unique<CrossEntropyLoss>(s); }}},
        {"ohem",
         {"PIDNet's OHEM cross-entropy",
          [](const LossSetup& s) { return std::make_unique<OhemLoss>(s); }}},
    };
    std::map<std::string, std::pair<std::string, LossFactory>> more;
    add_pidnet_losses(more);
    for (auto& [name, entry] : more) m[name] = {entry.first, std::move(entry.second)};
    return m;
  }();
  return losses;
}

}  // namespace

Tensor class_weight_tensor(const LossSetup& s) {
  const std::vector<double>& w = s.train.class_weights;
  if (w.empty()) return Tensor();
  RTSEG_CHECK(int(w.size()) == s.num_classes,
              "config: train.class_weights has {} values but the net has {} classes", w.size(),
              s.num_classes);
  return Tensor::from_doubles(w, {int64_t(w.size())}, DType::F32, s.device);
}

Tensor logits_at_label_size(Module& net, const Tensor& images, int64_t height, int64_t width) {
  Tensor logits = net.forward(images);
  RTSEG_CHECK(logits.dim() == 4, "{}: expected N×C×H×W logits, got {}", net.type_name(),
              logits.describe());
  if (logits.size(2) != height || logits.size(3) != width) {
    logits = interpolate_bilinear(logits, height, width, /*align_corners=*/true);
  }
  return logits;
}

void register_loss(const std::string& name, const std::string& description, LossFactory factory) {
  registry()[name] = {description, std::move(factory)};
}

std::unique_ptr<TrainingLoss> make_loss(const std::string& name, const LossSetup& setup) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [n, e] : registry()) known += (known.empty() ? "" : ", ") + n;
    fail("config: train.loss '{}' is not a registered loss (registered: {})", name, known);
  }
  return it->second.factory(setup);
}

std::vector<std::pair<std::string, std::string>> registered_losses() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [n, e] : registry()) out.emplace_back(n, e.description);
  return out;
}

}  // namespace rtseg::app
