#include "apps/lib/value_range.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "kernels/error.h"

namespace rtseg::app {

namespace {

bool parse_end(std::string t, double& v) {
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t == "inf" || t == "-inf") {
    v = (t[0] == '-' ? -1 : 1) * std::numeric_limits<double>::infinity();
    return true;
  }
  char* end = nullptr;
  v = std::strtod(t.c_str(), &end);
  return !t.empty() && end == t.c_str() + t.size() && std::isfinite(v);
}

}  // namespace

ValueRange ValueRange::parse(const std::string& interval) {
  ValueRange r;
  r.interval_ = interval;
  const size_t comma = interval.find(',');
  const bool ok = interval.size() >= 5 && comma != std::string::npos &&
                  (interval.front() == '[' || interval.front() == '(') &&
                  (interval.back() == ']' || interval.back() == ')') &&
                  parse_end(interval.substr(1, comma - 1), r.lo_) &&
                  parse_end(interval.substr(comma + 1, interval.size() - comma - 2), r.hi_) &&
                  r.lo_ <= r.hi_;
  RTSEG_CHECK(ok, "value range '{}' is not an interval like [0, 1] or (0, inf)", interval);
  r.lo_open_ = interval.front() == '(';
  r.hi_open_ = interval.back() == ')';
  return r;
}

bool ValueRange::contains(double v) const {
  if (std::isnan(v)) return false;
  return (lo_open_ ? v > lo_ : v >= lo_) && (hi_open_ ? v < hi_ : v <= hi_);
}

std::string ValueRange::text() const {
  const bool no_lo = std::isinf(lo_) && lo_open_, no_hi = std::isinf(hi_) && hi_open_;
  if (no_lo && no_hi) return "a finite number";
  if (no_hi) return fmt::format("{} {}", lo_open_ ? ">" : ">=", lo_);
  if (no_lo) return fmt::format("{} {}", hi_open_ ? "<" : "<=", hi_);
  return "in " + interval_;
}

}  // namespace rtseg::app
