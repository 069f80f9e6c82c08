// The data loader: worker threads decode and augment whole batches into a bounded queue ahead
// of the training loop, and hand them out in order as Tensors.
//
// Determinism: the order of an epoch is a shuffle seeded by (seed, epoch), and every sample's
// augmentation Generator is seeded by (seed, epoch, dataset index). So the batches and their
// contents depend only on (seed, epoch) — not on the number of workers or on thread timing —
// and a run resumed at an epoch reproduces it exactly.
//
// Errors: an exception in a worker (a missing or corrupt file, an out-of-range label) is
// re-thrown by next() when the consumer reaches that batch, naming the batch, the sample and the
// file. The destructor (or the next start_epoch) stops and joins the workers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace rtseg::data {

struct Batch {
  Tensor images;      // N×3×H×W float32, normalised
  Tensor labels;      // N×H×W int64 class ids (ignore value kept); undefined when unlabelled
  Tensor boundary;    // N×1×H×W float32 {0, 1}; defined when the pipeline made edge maps
  Tensor complexity;  // N×1×H×W float32; defined when the samples carry complexity maps
  std::vector<std::string> names;
  std::vector<size_t> indices;  // dataset indices of the samples
  int64_t epoch = 0;
  size_t number = 0;  // position of the batch within its epoch
};

struct LoaderOptions {
  int batch_size = 1;
  bool shuffle = true;
  bool drop_last = true;  // drop a last incomplete batch (training); false keeps it (evaluation)
  int workers = 2;        // 0: load in the consumer's thread
  int prefetch = 4;       // at most this many batches are loaded ahead of the consumer
  uint64_t seed = 0;
  Normalization normalization = Normalization::ImageNet;
  bool check_labels = true;  // every label value must be a class id or the ignore value
};

// The seed of one sample's augmentation Generator.
uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t index);
// What a worker does for one sample: decode it (checking its label values against the dataset's
// classes when check_labels) and run the pipeline with its own Generator.
Sample load_sample(const Dataset& dataset, const Pipeline& pipeline, size_t index, uint64_t seed,
                   int64_t epoch, bool check_labels = false);
// Stacks samples of one size into a Batch (labels checked against `info` when check_labels).
Batch collate(const std::vector<Sample>& samples, Normalization normalization,
              const DatasetInfo& info, bool check_labels = true);

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, Pipeline pipeline, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts loading the batches of `epoch` (stopping whatever epoch was in progress).
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false when the epoch is exhausted.
  bool next(Batch& batch);

  size_t batches_per_epoch() const;
  // The dataset indices of an epoch, in the order they are batched.
  std::vector<size_t> epoch_order(int64_t epoch) const;
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  struct Result {
    Batch batch;
    std::exception_ptr error;
  };
  Result build_batch(size_t number) const;
  void worker_loop();
  void stop_workers();

  std::shared_ptr<const Dataset> dataset_;
  Pipeline pipeline_;
  LoaderOptions options_;

  int64_t epoch_ = -1;
  std::vector<size_t> order_;
  size_t num_batches_ = 0;
  size_t next_task_ = 0, next_out_ = 0;
  bool stop_ = false;
  std::map<size_t, Result> ready_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
};

// Loads up to max_batches batches of `epoch` (0: all) and reports the rate; for benchmarks and
// for a smoke test (no timing assertions belong in tests).
struct LoaderThroughput {
  size_t batches = 0, images = 0;
  double seconds = 0.0, images_per_second = 0.0;
};
LoaderThroughput bench_loader(DataLoader& loader, int64_t epoch, size_t max_batches = 0);

}  // namespace rtseg::data
