#include "apps/lib/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace rtseg::app {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const int64_t s = int64_t(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  const int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d > 0) return fmt::format("{}d {:02}:{:02}:{:02}", d, h, m, sec);
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{:02}:{:02}", m, sec);
}

std::string format_progress(const Progress& p) {
  std::string line = fmt::format("it {}/{}  ep {}  lr {:.3e}", p.iteration, p.total, p.epoch, p.lr);
  for (size_t i = 0; i < p.losses.size(); ++i) {
    const auto& [name, value] = p.losses[i];
    if (i == 0) {
      line += fmt::format("  {} {:.4f}", name, value);
    } else {
      line += fmt::format("{}{} {:.4f}", i == 1 ? " (" : ", ", name, value);
    }
  }
  if (p.losses.size() > 1) line += ")";
  line +=
      fmt::format("  {:.1f} img/s  eta {}", p.images_per_second, format_duration(p.eta_seconds));
  return line;
}

ProgressPrinter::ProgressPrinter(std::ostream& out, bool tty, int64_t interval)
    : out_(out), tty_(tty), interval_(interval < 1 ? 1 : interval) {}

ProgressPrinter::~ProgressPrinter() { finish(); }

void ProgressPrinter::update(const Progress& p, bool force) {
  const std::string line = format_progress(p);
  if (tty_) {
    out_ << "\r" << line << "\033[K" << std::flush;
    drawn_ = line;
  } else if (force || p.iteration % interval_ == 0) {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressPrinter::message(const std::string& line) {
  if (tty_ && !drawn_.empty()) {
    out_ << "\r\033[K" << line << "\n" << drawn_ << std::flush;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressPrinter::finish() {
  if (tty_ && !drawn_.empty()) out_ << "\n" << std::flush;
  drawn_.clear();
}

bool stdout_is_tty() { return isatty(fileno(stdout)) != 0; }

}  // namespace rtseg::app
