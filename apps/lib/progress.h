// The training progress line:
//   it 120/1000  ep 3  lr 4.62e-03  loss 1.2345 (ce 1.2345)  12.3 img/s  eta 00:01:23
// On a terminal it is redrawn in place after every iteration; elsewhere (CI logs, files) it is
// printed as a plain line every `interval` iterations. Other messages (validation results) go
// on lines of their own without disturbing it.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace rtseg::app {

struct Progress {
  int64_t iteration = 0, total = 0, epoch = 0;  // iteration: completed ones
  double lr = 0;
  std::vector<std::pair<std::string, double>> losses;  // "loss" first, then the terms
  double images_per_second = 0;
  double eta_seconds = 0;
};

std::string format_progress(const Progress& p);
// "42s", "03:25", "1:02:03", "2d 03:04:05"
std::string format_duration(double seconds);

class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool tty, int64_t interval);
  ~ProgressPrinter();
  // Draws (TTY) or prints (every interval-th iteration, or when `force`) the line.
  void update(const Progress& p, bool force = false);
  // A message on its own line.
  void message(const std::string& line);
  // Ends a redrawn line.
  void finish();

 private:
  std::ostream& out_;
  bool tty_;
  int64_t interval_;
  std::string drawn_;  // the line currently shown on the terminal
};

// Whether stdout is a terminal.
bool stdout_is_tty();

}  // namespace rtseg::app
