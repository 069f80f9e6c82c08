// `train.loss: pidnet` and `train.loss: icfrnet`: the multi-head objectives of the PIDNet family
// (nets/pidnet_loss.h, nets/ic_loss.h) behind the TrainingLoss interface. Both take the heads
// of the net's training graph by name (Module::named_outputs) and need edge maps in the batches;
// ICFRNet's complexity pseudo-labels come from data/complexity.h's sources.
#include <map>

#include "apps/lib/losses.h"
#include "apps/lib/model.h"
#include "data/complexity.h"
#include "nets/ic_loss.h"
#include "nets/icfrnet.h"
#include "nets/icnet_teacher.h"
#include "nets/pidnet.h"
#include "nets/pidnet_loss.h"

namespace rtseg::app {

namespace {

PidnetLossOptions pidnet_options(const LossSetup& s) {
  PidnetLossOptions o;
  o.ohem_thresh = s.train.ohem_thresh;
  o.ohem_min_kept = s.train.ohem_keep;
  o.aux_reduction =
      s.train.ce_reduction == "mean" ? AuxCeReduction::WeightedMean : AuxCeReduction::PixelMean;
  o.class_weights = class_weight_tensor(s);
  o.ignore_index = s.ignore_index;
  return o;
}

// The loss's name and the graph whose heads it reads, for its messages.
struct Objective {
  const char* loss;
  const char* graph;
};

// The output called `name` of the net's graph; its absence says what the loss needs.
Tensor output(const NamedTensors& outputs, const std::string& name, const Module& net,
              const Objective& o) {
  std::string names;
  for (const auto& [n, t] : outputs) {
    if (n == name) return t;
    names += (names.empty() ? "" : ", ") + n;
  }
  fail("train.loss {} needs the net's output '{}' (a {} training graph); {} gives {}", o.loss, name,
       o.graph, net.type_name(), names);
}

PidNetHeads heads_of(const NamedTensors& outputs, const Module& net, const data::Batch& batch,
                     const Objective& o) {
  PidNetHeads h;
  h.main = output(outputs, "main", net, o);
  h.aux_p = output(outputs, "aux_p", net, o);
  h.boundary = output(outputs, "boundary", net, o);
  RTSEG_CHECK(batch.boundary.defined(), "train.loss {}: the batch has no edge maps", o.loss);
  return h;
}

constexpr Objective kPidnet{"pidnet", "PIDNet-family"}, kIcfrnet{"icfrnet", "ICFRNet"};

// Every named term except the total, which LossTerms carries on its own.
std::vector<std::pair<std::string, Tensor>> parts(
    std::vector<std::pair<std::string, Tensor>> named) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, t] : named) {
    if (name != "total") out.emplace_back(name, t);
  }
  return out;
}

class PidnetTrainingLoss : public TrainingLoss {
 public:
  explicit PidnetTrainingLoss(const LossSetup& s) : options_(pidnet_options(s)) {}

  LossTerms compute(Module& net, const data::Batch& batch) override {
    const PidNetHeads heads = heads_of(net.named_outputs(batch.images), net, batch, kPidnet);
    const PidnetLossTerms t = pidnet_loss(heads.list(), batch.labels, batch.boundary, options_);
    return {t.total, parts(t.named())};
  }
  bool needs_edges() const override { return true; }

 private:
  PidnetLossOptions options_;
};

data::ComplexitySource complexity_source(const LossSetup& s,
                                         std::shared_ptr<IcnetTeacher>& teacher) {
  data::ComplexityConfig c;
  c.source = s.train.complexity_source;
  c.folder = s.train.complexity_dir;
  data::ComplexitySource::TeacherFn fn;
  if (c.source == "teacher") {
    RTSEG_CHECK(!s.train.teacher_weights.empty(),
                "train.complexity_source teacher needs train.teacher_weights (the IC9600 ICNet's "
                "ck.pth converted with `rtseg convert`), or use precomputed / proxy");
    teacher = std::make_shared<IcnetTeacher>();
    load_weights(*teacher, s.train.teacher_weights, /*strict=*/true);
    teacher->to(s.device);
    teacher->eval();
    IcnetTeacher* t = teacher.get();
    fn = [t](const Tensor& x) { return teacher_complexity(*t, x); };
  }
  RTSEG_CHECK(c.source != "precomputed" || !c.folder.empty(),
              "train.complexity_source precomputed needs train.complexity_dir");
  return data::ComplexitySource(c, fn);
}

class IcfrnetTrainingLoss : public TrainingLoss {
 public:
  explicit IcfrnetTrainingLoss(const LossSetup& s) : source_(complexity_source(s, teacher_)) {
    options_.segmentation = pidnet_options(s);
  }

  LossTerms compute(Module& net, const data::Batch& batch) override {
    const NamedTensors out = net.named_outputs(batch.images);
    const PidNetHeads heads = heads_of(out, net, batch, kIcfrnet);
    const IcfrnetLossTerms t =
        icfrnet_loss(heads.list(), output(out, "ic_logits", net, kIcfrnet), batch.labels,
                     batch.boundary, source_.maps(batch), options_);
    return {t.total, parts(t.named())};
  }
  bool needs_edges() const override { return true; }
  void prepare_host_batch(data::Batch& batch) const override { source_.attach_host_maps(batch); }
  std::shared_ptr<const data::Dataset> wrap_dataset(
      std::shared_ptr<const data::Dataset> base) override {
    return source_.wrap_dataset(std::move(base));
  }

 private:
  std::shared_ptr<IcnetTeacher> teacher_;  // set before source_ is built (declaration order)
  data::ComplexitySource source_;
  IcfrnetLossOptions options_;
};

}  // namespace

void add_pidnet_losses(std::map<std::string, std::pair<std::string, LossFactory>>& losses) {
  losses["pidnet"] = {
      "PIDNet's 0.4 aux CE + OHEM + 20 boundary BCE + boundary-aware OHEM (pidnet-s)",
      [](const LossSetup& s) { return std::make_unique<PidnetTrainingLoss>(s); }};
  losses["icfrnet"] = {
      "PIDNet's loss + the image-complexity MSE/KL term (icfrnet; train.complexity_source)",
      [](const LossSetup& s) { return std::make_unique<IcfrnetTrainingLoss>(s); }};
}

}  // namespace rtseg::app
