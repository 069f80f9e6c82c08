#include "apps/lib/evaluator.h"

#include <chrono>
#include <map>
#include <mutex>

#include "apps/lib/losses.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "data/loader.h"

namespace rtseg::app {

namespace {

// Restores a module's training flag when it goes out of scope.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace

Tensor flip_width(const Tensor& x) {
  const Tensor host = as_contiguous(x.to(Device::cpu()).to(DType::F32));
  Tensor out = Tensor::empty(host.shape(), DType::F32);
  const int64_t w = host.size(-1), rows = host.numel() / w;
  const float* src = host.data<float>();
  float* dst = out.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < w; ++i) dst[r * w + i] = src[r * w + (w - 1 - i)];
  }
  return out.to(x.dtype()).to(x.device());
}

Tensor predict_logits(Module& net, const Tensor& images, bool flip) {
  EvalModeGuard eval(net);
  autograd::NoGradGuard no_grad;
  Tensor logits = logits_at_label_size(net, images, images.size(2), images.size(3));
  if (flip) {
    const Tensor mirrored =
        logits_at_label_size(net, flip_width(images), images.size(2), images.size(3));
    logits = mul_scalar(add(logits, flip_width(mirrored)), 0.5);
  }
  return logits;
}

data::Label to_label(const Tensor& classes, int64_t n) {
  const int64_t h = classes.size(1), w = classes.size(2);
  data::Label label(static_cast<int>(w), static_cast<int>(h));
  const Tensor host = as_contiguous(classes.to(Device::cpu()));
  const int64_t* src = host.data<int64_t>() + n * h * w;
  for (int64_t i = 0; i < h * w; ++i) label.values[size_t(i)] = int16_t(src[i]);
  return label;
}

EvalResult evaluate(Module& net, std::shared_ptr<const data::Dataset> dataset,
                    const data::Pipeline& pipeline, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.max_samples > 0 && options.max_samples < dataset->size()) {
    std::vector<size_t> first(options.max_samples);
    for (size_t i = 0; i < first.size(); ++i) first[i] = i;
    dataset = std::make_shared<data::SubsetDataset>(dataset, first);
  }
  // Remembers each sample's size before the pipeline resizes it (full-resolution outputs).
  auto sizes = std::make_shared<std::map<std::string, std::pair<int, int>>>();
  auto sizes_mutex = std::make_shared<std::mutex>();
  data::Pipeline steps;
  if (options.on_full_resolution) {
    steps.add("remember_size", [sizes, sizes_mutex](data::Sample& s, Generator&) {
      std::lock_guard<std::mutex> lock(*sizes_mutex);
      (*sizes)[s.name] = {s.image.width, s.image.height};
    });
  }
  steps.add("eval", [pipeline](data::Sample& s, Generator& g) { pipeline.apply(s, g); });

  data::LoaderOptions lo;
  lo.batch_size = options.batch_size;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.workers = options.workers;
  lo.normalization = options.normalization;
  data::DataLoader loader(dataset, steps, lo);
  loader.start_epoch(0);

  const data::DatasetInfo& info = dataset->info();
  EvalResult result{ConfusionMatrix(info.num_classes(), info.ignore_index), 0, 0, 0.0};
  data::Batch batch;
  while (loader.next(batch)) {
    const Tensor images = batch.images.to(options.device);
    const Tensor logits = predict_logits(net, images, options.flip);
    RTSEG_CHECK(logits.size(1) == info.num_classes(),
                "evaluate: the net gives {} classes but {} has {}", logits.size(1), info.name,
                info.num_classes());
    if (batch.labels.defined()) {
      result.matrix.add(batch.labels, argmax_classes(logits));
      result.labelled += batch.names.size();
    }
    if (options.on_full_resolution) {
      for (size_t i = 0; i < batch.names.size(); ++i) {
        std::pair<int, int> size;
        {
          std::lock_guard<std::mutex> lock(*sizes_mutex);
          size = sizes->at(batch.names[i]);
        }
        Tensor one = narrow(logits, 0, int64_t(i), 1);
        if (one.size(2) != size.second || one.size(3) != size.first) {
          one = interpolate_bilinear(one, size.second, size.first, /*align_corners=*/true);
        }
        options.on_full_resolution(batch.names[i], to_label(argmax_classes(one), 0));
      }
    }
    result.images += batch.names.size();
    if (options.on_progress) options.on_progress(result.images, dataset->size());
  }
  RTSEG_CHECK(result.labelled == 0 || result.matrix.total() > 0,
              "evaluate: {} labelled images and not a single pixel of a class among them: every "
              "label pixel is "
              "the ignore value {} (do the labels decode as this dataset's? `rtseg check-dataset` "
              "shows the "
              "histogram)",
              result.labelled, info.ignore_index);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace rtseg::app
