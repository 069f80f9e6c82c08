// The training loop of `rtseg train`: builds everything from a config (net, data, loss, SGD with
// the poly schedule), trains on the GPU when there is one, and writes into the run folder
//   config.yaml        the resolved configuration
//   last.safetensors   training checkpoint (optim/checkpoint.h), every train.checkpoint_interval
//   best.safetensors   the checkpoint with the best validation mIoU so far
//   train_log.csv      iteration, epoch, lr, loss, each loss term, images/s, elapsed seconds
//   val_log.csv        iteration, epoch, mIoU, aAcc, mAcc, each class's IoU
//   events.out.tfevents.*  the same scalars for TensorBoard
//   curves.png         training loss and validation mIoU against the iteration
//   metrics.json       the latest validation's metrics
// A resumed run (a checkpoint, same config) continues bit-identically: the data order and
// augmentation depend only on (seed, epoch, index), and the checkpoint holds the model, the
// momentum, the position and every generator. Ctrl-C finishes the current iteration, writes
// `last` and returns. A non-finite loss (or weights) stops with an Error before anything is
// written, so the last good checkpoint stays as it was.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "apps/lib/config.h"

namespace rtseg::app {

struct TrainOptions {
  std::string config_path;  // names the default run folder (runs/<stem>)
  std::string resume;       // checkpoint to continue from; empty: a new run
  // A new run into a folder that holds one: false refuses (apps/lib/run_folder.h), true replaces
  // it.
  bool overwrite = false;
  // The command that continues this run, for the messages (default: built from config_path and
  // the run folder).
  std::string resume_command;
  std::ostream* out = nullptr;  // progress and reports (nullptr: std::cout)
  bool tty = false;             // redraw the progress line in place
  // Called after every completed iteration (its number), e.g. to interrupt a run in tests.
  std::function<void(int64_t)> after_iteration;
};

struct TrainResult {
  int64_t iteration = 0, total = 0;  // completed iterations and the run's length
  bool interrupted = false;
  double best_miou = -1, last_miou = -1;  // < 0: no validation ran
  std::string output_dir, last_checkpoint, best_checkpoint;
  double seconds = 0;
};

TrainResult train(const Config& config, const TrainOptions& options);

}  // namespace rtseg::app
