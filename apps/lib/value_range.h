// The allowed values of a numeric config key, written in the schema as an interval:
// "[0, 1]", "[0, 1)", "(0, inf)", "[1, inf)". NaN is in no range; "inf" as an open end excludes
// the infinities. Messages say it in words: "in [0, 1]", "> 0", ">= 1".
#pragma once

#include <string>

namespace rtseg::app {

class ValueRange {
 public:
  // A malformed interval is an Error (a programming error in a schema).
  static ValueRange parse(const std::string& interval);

  bool contains(double v) const;
  std::string text() const;  // "in [0, 1]", ">= 1", "> 0", "<= 5"

 private:
  double lo_ = 0, hi_ = 0;
  bool lo_open_ = false, hi_open_ = false;
  std::string interval_;
};

}  // namespace rtseg::app
