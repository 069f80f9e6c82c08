// CSV logs of a training run: a header row, then one row per event, flushed at once so that a
// killed run leaves a readable file. The first column is the iteration; a resumed run keeps the
// rows up to the checkpoint's iteration and drops the ones a crash left after it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace rtseg::app {

class CsvLog {
 public:
  // keep_until < 0: start a new file. Otherwise keep the existing rows whose iteration is at most
  // keep_until and append; an existing file with other columns is moved to `path`.old first.
  CsvLog(std::string path, std::vector<std::string> columns, int64_t keep_until = -1);
  ~CsvLog();
  CsvLog(const CsvLog&) = delete;
  CsvLog& operator=(const CsvLog&) = delete;

  void row(const std::vector<std::string>& values);
  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

// RFC 4180 fields (quotes doubled inside quoted fields); rows including the header. A missing
// file gives no rows.
std::vector<std::vector<std::string>> read_csv(const std::string& path);
std::string csv_line(const std::vector<std::string>& fields);
// A number for a CSV cell: shortest round-trip text, "nan" for NaN.
std::string csv_number(double v);

}  // namespace rtseg::app
