#include "data/loader.h"

#include <chrono>
#include <cstring>

#include "data/data_error.h"

namespace rtseg::data {

namespace {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Distinct streams for the shuffle and for the samples of the same (seed, epoch).
constexpr uint64_t kShuffleStream = 0x53485546464C45ull;  // "SHUFFLE"
constexpr uint64_t kSampleStream = 0x53414D504C45ull;     // "SAMPLE"

// Re-throws `current` as an error that also says which batch and sample it happened in,
// keeping the DataError kind so callers can still tell a missing file from a corrupt one.
[[noreturn]] void rethrow_with_context(const std::string& context) {
  try {
    throw;
  } catch (const DataError& e) {
    throw DataError(e.kind(), context + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(context + ": " + e.what());
  }
}

}  // namespace

uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t index) {
  uint64_t h = splitmix64(seed ^ kSampleStream);
  h = splitmix64(h ^ static_cast<uint64_t>(epoch));
  return splitmix64(h ^ static_cast<uint64_t>(index));
}

namespace {

// Label values as the file holds them, before any augmentation moves or resizes them, so that
// the error points at the pixel of the file (the caller names the sample: list line, files).
void check_label_values(const Sample& s, const DatasetInfo& info) {
  const int classes = info.num_classes();
  if (s.label.empty() || classes <= 0) return;
  for (size_t k = 0; k < s.label.values.size(); ++k) {
    const int v = s.label.values[k];
    if ((v < 0 || v >= classes) && v != info.ignore_index) {
      data_fail(DataErrorKind::Value,
                "label value {} at pixel (x {}, y {}) of the {}x{} label map as decoded from its "
                "file is neither a "
                "class id 0..{} nor the ignore value {}",
                v, k % size_t(s.label.width), k / size_t(s.label.width), s.label.width,
                s.label.height, classes - 1, info.ignore_index);
    }
  }
}

}  // namespace

Sample load_sample(const Dataset& dataset, const Pipeline& pipeline, size_t index, uint64_t seed,
                   int64_t epoch, bool check_labels) {
  Sample s = dataset.get(index);
  if (check_labels) check_label_values(s, dataset.info());
  Generator gen(sample_seed(seed, epoch, index));
  pipeline.apply(s, gen);
  return s;
}

Batch collate(const std::vector<Sample>& samples, Normalization normalization,
              const DatasetInfo& info, bool check_labels) {
  RTSEG_CHECK(!samples.empty(), "collate: no samples");
  const Sample& first = samples.front();
  int w, h;
  sample_size(first, w, h);
  const int64_t n = static_cast<int64_t>(samples.size());
  const bool labels = !first.label.empty(), edges = !first.edge.empty(),
             complexity = !first.complexity.empty();
  for (const Sample& s : samples) {
    int sw, sh;
    sample_size(s, sw, sh);
    if (sw != w || sh != h) {
      fail(
          "collate: sample '{}' is {}x{} but '{}' is {}x{}; a batch needs one size (add a crop or "
          "resize to the "
          "pipeline, or use batch size 1)",
          s.name, sw, sh, first.name, w, h);
    }
    RTSEG_CHECK(
        s.label.empty() != labels && s.edge.empty() != edges && s.complexity.empty() != complexity,
        "collate: samples '{}' and '{}' differ in which maps (label, edge, complexity) they carry",
        s.name, first.name);
  }
  Batch b;
  const size_t hw = size_t(w) * h;
  b.images = Tensor::empty({n, 3, h, w}, DType::F32);
  if (labels) b.labels = Tensor::empty({n, h, w}, DType::I64);
  if (edges) b.boundary = Tensor::empty({n, 1, h, w}, DType::F32);
  if (complexity) b.complexity = Tensor::empty({n, 1, h, w}, DType::F32);
  const int classes = info.num_classes();
  for (int64_t i = 0; i < n; ++i) {
    const Sample& s = samples[size_t(i)];
    b.names.push_back(s.name);
    RTSEG_CHECK(s.image.channels == 3,
                "collate: sample '{}' has {} image channels, expected 3 (RGB)", s.name,
                s.image.channels);
    normalize_into(s.image, normalization, b.images.data<float>() + size_t(i) * 3 * hw);
    if (labels) {
      int64_t* dst = b.labels.data<int64_t>() + size_t(i) * hw;
      for (size_t k = 0; k < hw; ++k) {
        const int v = s.label.values[k];
        if (check_labels && classes > 0 && (v < 0 || v >= classes) && v != info.ignore_index) {
          data_fail(DataErrorKind::Value,
                    "sample '{}': label value {} at (x {}, y {}) after the pipeline is neither a "
                    "class id "
                    "0..{} nor the ignore value {}",
                    s.name, v, k % size_t(w), k / size_t(w), classes - 1, info.ignore_index);
        }
        dst[k] = v;
      }
    }
    if (edges) {
      float* dst = b.boundary.data<float>() + size_t(i) * hw;
      for (size_t k = 0; k < hw; ++k) dst[k] = s.edge.values[k] != 0 ? 1.0f : 0.0f;
    }
    if (complexity)
      std::memcpy(b.complexity.data<float>() + size_t(i) * hw, s.complexity.values.data(),
                  hw * sizeof(float));
  }
  return b;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, Pipeline pipeline,
                       LoaderOptions options)
    : dataset_(std::move(dataset)), pipeline_(std::move(pipeline)), options_(options) {
  RTSEG_CHECK(dataset_ != nullptr, "DataLoader: no dataset");
  RTSEG_CHECK(options_.batch_size >= 1, "DataLoader: batch size must be >= 1, got {}",
              options_.batch_size);
  RTSEG_CHECK(options_.workers >= 0, "DataLoader: workers must be >= 0, got {}", options_.workers);
  RTSEG_CHECK(options_.prefetch >= 1, "DataLoader: prefetch must be >= 1, got {}",
              options_.prefetch);
  RTSEG_CHECK(dataset_->size() > 0, "DataLoader: dataset '{}' is empty", dataset_->info().name);
  RTSEG_CHECK(!options_.drop_last || dataset_->size() >= size_t(options_.batch_size),
              "DataLoader: dataset '{}' has {} samples, fewer than one batch of {} (drop_last)",
              dataset_->info().name, dataset_->size(), options_.batch_size);
}

DataLoader::~DataLoader() { stop_workers(); }

size_t DataLoader::batches_per_epoch() const {
  const size_t n = dataset_->size(), b = size_t(options_.batch_size);
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<size_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<size_t> order(dataset_->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (options_.shuffle) {
    Generator gen(
        splitmix64(splitmix64(options_.seed ^ kShuffleStream) ^ static_cast<uint64_t>(epoch)));
    for (size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[size_t(gen.randint(int64_t(i)))]);
  }
  return order;
}

DataLoader::Result DataLoader::build_batch(size_t number) const {
  Result r;
  const size_t b = size_t(options_.batch_size), begin = number * b,
               end = std::min(begin + b, order_.size());
  std::vector<Sample> samples;
  std::vector<size_t> indices(order_.begin() + ptrdiff_t(begin), order_.begin() + ptrdiff_t(end));
  try {
    for (size_t index : indices) {
      try {
        samples.push_back(
            load_sample(*dataset_, pipeline_, index, options_.seed, epoch_, options_.check_labels));
      } catch (...) {
        rethrow_with_context(fmt::format("loader: epoch {} batch {}: sample {} ({})", epoch_,
                                         number, index, dataset_->describe(index)));
      }
    }
    try {
      r.batch = collate(samples, options_.normalization, dataset_->info(), options_.check_labels);
    } catch (...) {
      rethrow_with_context(fmt::format("loader: epoch {} batch {}", epoch_, number));
    }
    r.batch.indices = std::move(indices);
    r.batch.epoch = epoch_;
    r.batch.number = number;
  } catch (...) {
    r.error = std::current_exception();
  }
  return r;
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] {
      return stop_ || next_task_ >= num_batches_ ||
             next_task_ < next_out_ + size_t(options_.prefetch);
    });
    if (stop_ || next_task_ >= num_batches_) return;
    const size_t number = next_task_++;
    lock.unlock();
    Result r = build_batch(number);
    lock.lock();
    ready_.emplace(number, std::move(r));
    changed_.notify_all();
  }
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void DataLoader::start_epoch(int64_t epoch) {
  stop_workers();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  num_batches_ = batches_per_epoch();
  next_task_ = next_out_ = 0;
  ready_.clear();
  stop_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

bool DataLoader::next(Batch& batch) {
  RTSEG_CHECK(epoch_ >= 0, "DataLoader: call start_epoch before next");
  Result r;
  if (threads_.empty()) {
    if (next_out_ >= num_batches_) return false;
    r = build_batch(next_out_++);
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    if (next_out_ >= num_batches_) {
      lock.unlock();
      stop_workers();
      return false;
    }
    changed_.wait(lock, [&] { return ready_.count(next_out_) > 0; });
    auto it = ready_.find(next_out_);
    r = std::move(it->second);
    ready_.erase(it);
    ++next_out_;
    changed_.notify_all();  // a slot of the prefetch window is free again
  }
  if (r.error) std::rethrow_exception(r.error);
  batch = std::move(r.batch);
  return true;
}

LoaderThroughput bench_loader(DataLoader& loader, int64_t epoch, size_t max_batches) {
  LoaderThroughput t;
  const auto start = std::chrono::steady_clock::now();
  loader.start_epoch(epoch);
  Batch b;
  while ((max_batches == 0 || t.batches < max_batches) && loader.next(b)) {
    ++t.batches;
    t.images += b.names.size();
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.images_per_second = t.seconds > 0 ? double(t.images) / t.seconds : 0.0;
  return t;
}

}  // namespace rtseg::data
