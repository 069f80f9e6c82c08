#include "apps/lib/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/lib/csv_log.h"
#include "apps/lib/datasets.h"
#include "apps/lib/evaluator.h"
#include "apps/lib/experiment.h"
#include "apps/lib/interrupt.h"
#include "apps/lib/losses.h"
#include "apps/lib/metrics.h"
#include "apps/lib/model.h"
#include "apps/lib/plot.h"
#include "apps/lib/progress.h"
#include "apps/lib/run_folder.h"
#include "apps/lib/tensorboard.h"
#include "core/ops.h"
#include "core/safetensors.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "nets/registry.h"
#include "optim/checkpoint.h"
#include "optim/lr_schedule.h"
#include "optim/sgd.h"

namespace fs = std::filesystem;

namespace rtseg::app {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Everything one training run holds, in the order it is built.
class Run {
 public:
  Run(const Config& config, const TrainOptions& options)
      : config_(config),
        options_(options),
        out_(options.out ? *options.out : std::cout),
        exp_(read_experiment(config, options.config_path)) {}

  TrainResult execute();

 private:
  void setup();
  void resume(const std::string& path);
  void check_batch_has_labels(const data::Batch& batch);
  void check_batch_norm_values(const data::Batch& batch) const;
  void train_step(const data::Batch& batch);
  int64_t completed_epoch() const {
    return iteration_ > 0 ? (iteration_ - 1) / batches_per_epoch_ : 0;
  }
  void log_row();
  void validate();
  void save(const std::string& path);
  std::string in_run(const char* file) const { return (fs::path(exp_.output_dir) / file).string(); }
  // curves.png from whatever the CSV logs hold so far (either may not exist yet).
  void plot() const {
    write_training_curves(in_run("curves.png"), in_run("train_log.csv"), in_run("val_log.csv"));
  }
  std::string continue_command() const {
    return options_.resume_command.empty()
               ? resume_command(options_.config_path, {}, exp_.output_dir)
               : options_.resume_command;
  }
  std::string position_text() const {
    return fmt::format("iteration {}/{} (epoch {})", iteration_, total_, completed_epoch());
  }

  const Config& config_;
  const TrainOptions& options_;
  std::ostream& out_;
  Experiment exp_;
  Device device_;
  data::DatasetInfo info_;
  std::shared_ptr<const data::Dataset> train_set_, val_set_;
  std::shared_ptr<Module> net_;
  std::unique_ptr<TrainingLoss> loss_;
  std::unique_ptr<data::DataLoader> loader_;
  std::unique_ptr<SGD> optimizer_;
  PolySchedule schedule_;
  NamedGenerators generators_;
  int64_t batches_per_epoch_ = 0, total_ = 0, iteration_ = 0;
  int64_t start_iteration_ = -1;  // where a resumed run started; -1 for a new run
  int64_t classes_ = 0;
  int64_t batch_norm_stride_ = 1;           // NetInfo::deepest_batch_norm_stride of the net
  int64_t batches_without_labels_ = 0;      // in a row: training batches without a class pixel
  double best_miou_ = -1, last_miou_ = -1;  // -1: no validation yet (mIoU is in [0, 1])

  std::unique_ptr<ProgressPrinter> progress_;
  std::unique_ptr<CsvLog> train_log_, val_log_;
  std::unique_ptr<EventFileWriter> events_;
  std::string last_path_, best_path_;
  // The current log window: sums of the loss terms, iterations, images and their time (data
  // loading included, validation and checkpoints not).
  double window_loss_sum_ = 0;
  std::vector<std::pair<std::string, Tensor>> window_term_sums_;  // on the device
  int64_t window_iterations_ = 0, window_images_ = 0;
  double window_seconds_ = 0;
  Clock::time_point run_start_;
  double seconds_per_iteration_ = 0;  // moving average, for the rate and the ETA
};

void Run::setup() {
  device_ = choose_device(exp_.train.device);
  info_ = dataset_info(exp_.data);
  const int64_t classes = exp_.model.classes ? exp_.model.classes : info_.num_classes();
  classes_ = classes;
  batch_norm_stride_ = net_info(exp_.model.name).deepest_batch_norm_stride;
  RTSEG_CHECK(classes == info_.num_classes(),
              "config: model.classes is {} but the {} dataset has {} classes", classes, info_.name,
              info_.num_classes());
  const uint64_t seed = uint64_t(exp_.train.seed);
  train_set_ = open_dataset(exp_.data, exp_.data.train_split, seed);
  if (!exp_.data.val_split.empty()) val_set_ = open_dataset(exp_.data, exp_.data.val_split, seed);

  net_ = build_net(exp_.model, classes, "train", seed);
  if (!exp_.model.weights.empty() && options_.resume.empty()) {
    LoadReport report;
    try {
      report = load_weights(*net_, exp_.model.weights, /*strict=*/!exp_.model.weights_partial);
    } catch (const Error& e) {
      if (exp_.model.weights_partial) throw;
      fail("model.weights: {} (set model.weights_partial=true to load only the tensors that fit)",
           e.what());
    }
    RTSEG_CHECK(!report.loaded.empty(),
                "model.weights {}: not one tensor fits {} ({}); these are not its weights",
                exp_.model.weights, exp_.model.name, report.summary());
    out_ << "weights " << exp_.model.weights << ": " << report.summary() << "\n";
  }
  net_->to(device_);
  net_->train();

  LossSetup ls;
  ls.train = exp_.train;
  ls.num_classes = int(classes);
  ls.ignore_index = info_.ignore_index;
  ls.device = device_;
  loss_ = make_loss(exp_.train.loss, ls);
  train_set_ = loss_->wrap_dataset(train_set_);

  data::LoaderOptions lo;
  lo.batch_size = int(exp_.train.batch_size);
  lo.shuffle = true;
  lo.drop_last = true;
  lo.workers = int(exp_.data.workers);
  lo.seed = seed;
  lo.normalization = normalization(exp_.data);
  loader_ = std::make_unique<data::DataLoader>(train_set_,
                                               train_pipeline(exp_.data, loss_->needs_edges()), lo);
  batches_per_epoch_ = int64_t(loader_->batches_per_epoch());
  RTSEG_CHECK(batches_per_epoch_ > 0,
              "the training set has {} samples, fewer than train.batch_size {}", train_set_->size(),
              exp_.train.batch_size);
  total_ = exp_.train.iterations ? exp_.train.iterations : exp_.train.epochs * batches_per_epoch_;
  RTSEG_CHECK(total_ > 0, "config: set train.iterations or train.epochs");

  schedule_.max_iter =
      exp_.train.schedule_epochs ? exp_.train.schedule_epochs * batches_per_epoch_ : total_;
  schedule_.power = exp_.train.poly_power;
  schedule_.warmup_iters = exp_.train.warmup_iters;
  schedule_.warmup_ratio = exp_.train.warmup_ratio;
  optimizer_ = std::make_unique<SGD>(net_->parameters(), exp_.train.sgd);

  generators_ = model_generators(*net_);
  for (const auto& g : loss_->generators()) generators_.push_back(g);

  fs::create_directories(exp_.output_dir);
  last_path_ = in_run("last.safetensors");
  best_path_ = in_run("best.safetensors");
}

void Run::resume(const std::string& path) {
  const TrainingPosition pos = load_checkpoint(path, *net_, *optimizer_, generators_);
  iteration_ = pos.iteration;
  best_miou_ = pos.best_metric;
  start_iteration_ = iteration_;
  RTSEG_CHECK(iteration_ <= total_, "{}: the checkpoint is at iteration {}, beyond this run's {}",
              path, iteration_, total_);
  // Say what changed since the checkpoint (a different LR or length changes the run).
  try {
    Config saved(config_.schema());
    saved.merge_yaml_text(pos.config, path);
    for (const auto& [key, change] : saved.differences(config_)) {
      out_ << "note: " << key << " differs from the checkpoint's config: " << change << "\n";
    }
  } catch (const Error&) {
    out_ << "note: the checkpoint's config does not read as this version's; not compared\n";
  }
  out_ << "resumed from " << path << " at " << position_text() << "\n";
}

void Run::save(const std::string& path) {
  // Never replace a good checkpoint with broken weights.
  RTSEG_CHECK(all_finite(*net_),
              "the weights became non-finite by {}; stopping without writing {} "
              "(the last good checkpoint is kept; try a lower train.lr)",
              position_text(), path);
  TrainingPosition pos;
  pos.epoch = iteration_ / batches_per_epoch_;
  pos.iteration = iteration_;
  pos.best_metric = best_miou_;
  pos.config = config_.to_yaml();
  save_checkpoint(path, *net_, *optimizer_, pos, generators_);
}

// Labels that decode to no class (all ignore: a wrong label format or colour list) train on a
// zero loss. One such batch happens (a crop of sky); a run of them, as long as an epoch or ten
// batches whichever is shorter, means the labels are wrong: stop and say so.
void Run::check_batch_has_labels(const data::Batch& batch) {
  if (!batch.labels.defined()) return;
  const Tensor labels = batch.labels.is_contiguous() ? batch.labels : batch.labels.clone();
  const int64_t* v = labels.data<int64_t>();
  const int64_t n = labels.numel();
  bool any = false;
  for (int64_t i = 0; i < n && !any; ++i)
    any = v[i] >= 0 && v[i] < classes_ && v[i] != info_.ignore_index;
  batches_without_labels_ = any ? 0 : batches_without_labels_ + 1;
  const int64_t limit = std::min<int64_t>(10, batches_per_epoch_);
  RTSEG_CHECK(
      batches_without_labels_ < limit,
      "{} training batches in a row (to iteration {}) hold not a single pixel of a class: every "
      "label "
      "pixel is the ignore value {}; do the labels decode as this dataset's (data.label_format, "
      "data.class_file)? `rtseg check-dataset` shows the histogram",
      batches_without_labels_, iteration_ + 1, info_.ignore_index);
}

// See NetInfo::deepest_batch_norm_stride: refuse the sizes whose BatchNorm statistics degenerate
// (the weights turn non-finite at any learning rate while the logged losses look fine).
void Run::check_batch_norm_values(const data::Batch& batch) const {
  const int64_t s = batch_norm_stride_;
  const int64_t n = batch.images.size(0), h = batch.images.size(2), w = batch.images.size(3);
  const int64_t mh = (h + s - 1) / s, mw = (w + s - 1) / s;  // the map there, per image
  const int64_t values = n * mh * mw;
  RTSEG_CHECK(values >= kMinBatchNormValues,
              "{} in batches of {} at {}x{} leaves {} value{} per channel to the BatchNorm layers "
              "at 1/{} ({}x{} per image); they need at least {}, or their statistics degenerate "
              "and the weights become non-finite: train on larger crops or in larger batches",
              exp_.model.name, n, h, w, values, values == 1 ? "" : "s", s, mh, mw,
              kMinBatchNormValues);
}

void Run::train_step(const data::Batch& host_batch) {
  check_batch_norm_values(host_batch);
  check_batch_has_labels(host_batch);
  schedule_.apply(*optimizer_, iteration_);
  data::Batch batch = host_batch;
  loss_->prepare_host_batch(batch);  // still on the host here
  batch.images = batch.images.to(device_);
  if (batch.labels.defined()) batch.labels = batch.labels.to(device_);
  if (batch.boundary.defined()) batch.boundary = batch.boundary.to(device_);
  if (batch.complexity.defined()) batch.complexity = batch.complexity.to(device_);

  optimizer_->zero_grad();
  const LossTerms terms = loss_->compute(*net_, batch);
  // One device read per step (the total, for the finite check); the terms stay on the device,
  // summed over the log window, and are read together when shown.
  const double value = terms.total.item();
  if (!std::isfinite(value)) {
    std::string parts = fmt::format("loss {}", value);
    for (const auto& [name, t] : terms.terms) parts += fmt::format(", {} {}", name, t.item());
    const std::string kept = fs::exists(last_path_)
                                 ? "the last good checkpoint " + last_path_ + " is kept"
                                 : "no checkpoint was written yet";
    fail(
        "the loss is not finite at iteration {} ({}); stopping: {} (try a lower train.lr, "
        "check train.class_weights and the labels)",
        iteration_, parts, kept);
  }
  terms.total.backward();
  optimizer_->step();
  ++iteration_;

  window_loss_sum_ += value;
  if (window_term_sums_.size() != terms.terms.size()) window_term_sums_.clear();
  for (size_t i = 0; i < terms.terms.size(); ++i) {
    const Tensor t = terms.terms[i].second.detach();
    if (i < window_term_sums_.size()) {
      window_term_sums_[i].second = add(window_term_sums_[i].second, t);
    } else {
      window_term_sums_.emplace_back(terms.terms[i].first, t);
    }
  }
  ++window_iterations_;
  window_images_ += batch.images.size(0);
}

void Run::log_row() {
  Progress p;
  p.iteration = iteration_;
  p.total = total_;
  p.epoch = completed_epoch();
  p.lr = optimizer_->groups()[0].hyper.lr;
  const bool row_due = iteration_ % exp_.train.log_interval == 0 || iteration_ == total_;
  const double n = double(window_iterations_);
  p.losses.emplace_back("loss", window_loss_sum_ / n);
  // The terms are read from the device only where they are shown: a log row, or a terminal's
  // progress line (redrawn every iteration).
  if (!window_term_sums_.empty() && (row_due || options_.tty)) {
    std::vector<Tensor> sums;
    for (const auto& [name, t] : window_term_sums_) sums.push_back(reshape(t, {1}));
    const std::vector<double> host = concat(sums, 0).to(Device::cpu()).to_doubles();
    for (size_t i = 0; i < host.size(); ++i)
      p.losses.emplace_back(window_term_sums_[i].first, host[i] / n);
  }
  p.images_per_second = window_seconds_ > 0 ? double(window_images_) / window_seconds_ : 0;
  p.eta_seconds = double(total_ - iteration_) * seconds_per_iteration_;
  progress_->update(p, iteration_ == total_);
  if (!row_due) return;

  if (!train_log_) {
    std::vector<std::string> columns{"iteration", "epoch", "lr"};
    for (const auto& [name, v] : p.losses) columns.push_back(name);
    columns.insert(columns.end(), {"images_per_s", "seconds"});
    train_log_ = std::make_unique<CsvLog>(in_run("train_log.csv"), columns, start_iteration_);
  }
  std::vector<std::string> row{std::to_string(iteration_), std::to_string(p.epoch),
                               csv_number(p.lr)};
  for (const auto& [name, v] : p.losses) {
    row.push_back(csv_number(v));
    events_->add_scalar("train/" + name, v, iteration_);
  }
  row.push_back(csv_number(p.images_per_second));
  row.push_back(csv_number(seconds_since(run_start_)));
  train_log_->row(row);
  events_->add_scalar("train/lr", p.lr, iteration_);
  events_->add_scalar("train/images_per_s", p.images_per_second, iteration_);
  events_->flush();
  window_loss_sum_ = 0;
  window_term_sums_.clear();
  window_iterations_ = window_images_ = 0;
  window_seconds_ = 0;
}

void Run::validate() {
  EvalOptions eo;
  eo.flip = exp_.eval.flip;
  eo.max_samples = size_t(exp_.eval.max_samples);
  eo.batch_size = int(exp_.eval.batch_size);
  eo.workers = int(exp_.data.workers);
  eo.normalization = normalization(exp_.data);
  eo.device = device_;
  const EvalResult r = evaluate(*net_, val_set_, eval_pipeline(exp_.data), eo);
  const SegmentationMetrics m = compute_metrics(r.matrix);
  last_miou_ = m.miou;
  const bool improved = std::isfinite(m.miou) && m.miou > best_miou_;
  if (improved) best_miou_ = m.miou;
  progress_->message(
      fmt::format("val {}: mIoU {:.2f}  aAcc {:.2f}  mAcc {:.2f}  ({} images, {:.1f}s){}",
                  position_text(), 100 * m.miou, 100 * m.aacc, 100 * m.macc, r.images, r.seconds,
                  improved ? "  best so far" : ""));
  if (!val_log_) {
    std::vector<std::string> columns{"iteration", "epoch", "mIoU", "aAcc", "mAcc"};
    for (const std::string& name : info_.class_names) columns.push_back("IoU:" + name);
    val_log_ = std::make_unique<CsvLog>(in_run("val_log.csv"), columns, start_iteration_);
  }
  std::vector<std::string> row{std::to_string(iteration_), std::to_string(completed_epoch()),
                               csv_number(m.miou), csv_number(m.aacc), csv_number(m.macc)};
  for (const ClassMetrics& c : m.classes) row.push_back(csv_number(c.iou));
  val_log_->row(row);
  events_->add_scalar("val/mIoU", m.miou, iteration_);
  events_->add_scalar("val/aAcc", m.aacc, iteration_);
  events_->add_scalar("val/mAcc", m.macc, iteration_);
  for (size_t c = 0; c < m.classes.size(); ++c) {
    events_->add_scalar("val_IoU/" + info_.class_names[c], m.classes[c].iou, iteration_);
  }
  events_->flush();
  write_metrics_json(in_run("metrics.json"), m, r.matrix, info_.class_names,
                     {{"iteration", std::to_string(iteration_)}});
  plot();
  if (improved) save(best_path_);
}

TrainResult Run::execute() {
  run_start_ = Clock::now();
  if (options_.resume.empty())
    prepare_new_run_folder(exp_.output_dir, options_.overwrite, continue_command());
  setup();
  if (!options_.resume.empty()) resume(options_.resume);
  const std::string config_text = config_.to_yaml();
  data::write_file(in_run("config.yaml"),
                   std::vector<uint8_t>(config_text.begin(), config_text.end()));
  events_ = std::make_unique<EventFileWriter>(exp_.output_dir);
  progress_ = std::make_unique<ProgressPrinter>(out_, options_.tty, exp_.train.log_interval);

  out_ << fmt::format(
      "training {} ({:.3f} M parameters) on {}: {} {} images ({} per epoch), "
      "{} validation images, {} iterations of batch {}\n",
      exp_.model.name, net_->num_parameters() / 1e6, device_.str(), info_.name, train_set_->size(),
      batches_per_epoch_, val_set_ ? val_set_->size() : 0, total_, exp_.train.batch_size);
  out_ << "run folder: " << exp_.output_dir << "\n" << std::flush;

  InterruptGuard interrupt_guard;
  TrainResult result;
  int64_t epoch = iteration_ / batches_per_epoch_;
  loader_->start_epoch(epoch);
  // A run resumed inside an epoch skips the batches that were already trained on.
  data::Batch batch;
  for (int64_t skip = iteration_ % batches_per_epoch_; skip > 0; --skip) loader_->next(batch);

  while (iteration_ < total_) {
    const auto step_start = Clock::now();
    if (!loader_->next(batch)) {
      loader_->start_epoch(++epoch);
      continue;
    }
    train_step(batch);
    const double dt = seconds_since(step_start);
    window_seconds_ += dt;
    seconds_per_iteration_ =
        seconds_per_iteration_ == 0 ? dt : 0.9 * seconds_per_iteration_ + 0.1 * dt;
    log_row();

    const bool val_due =
        val_set_ && (iteration_ == total_ ||
                     (exp_.train.val_interval > 0 ? iteration_ % exp_.train.val_interval == 0
                                                  : iteration_ % batches_per_epoch_ == 0));
    if (val_due) validate();
    const bool checkpoint_due =
        iteration_ == total_ ||
        (exp_.train.checkpoint_interval > 0 ? iteration_ % exp_.train.checkpoint_interval == 0
                                            : val_due);
    if (options_.after_iteration) options_.after_iteration(iteration_);
    if (interrupt_requested() && iteration_ < total_) {
      save(last_path_);
      progress_->message(
          fmt::format("interrupted at {}: checkpoint written to {}; continue with `{}`",
                      position_text(), last_path_, continue_command()));
      result.interrupted = true;
      break;
    }
    if (checkpoint_due) save(last_path_);
  }
  progress_->finish();
  if (train_log_) plot();
  result.iteration = iteration_;
  result.total = total_;
  result.best_miou = best_miou_;
  result.last_miou = last_miou_;
  result.output_dir = exp_.output_dir;
  result.last_checkpoint = last_path_;
  result.best_checkpoint = fs::exists(best_path_) ? best_path_ : "";
  result.seconds = seconds_since(run_start_);
  return result;
}

}  // namespace

TrainResult train(const Config& config, const TrainOptions& options) {
  Run run(config, options);
  return run.execute();
}

}  // namespace rtseg::app
