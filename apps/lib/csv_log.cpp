#include "apps/lib/csv_log.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernels/error.h"

namespace rtseg::app {

namespace {

std::vector<std::string> parse_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += '"';
  }
  return out;
}

std::string csv_number(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.6g}", v); }

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(parse_line(line));
  }
  return rows;
}

CsvLog::CsvLog(std::string path, std::vector<std::string> columns, int64_t keep_until)
    : path_(std::move(path)), columns_(std::move(columns)) {
  std::vector<std::vector<std::string>> kept;
  if (keep_until >= 0 && std::filesystem::exists(path_)) {
    std::vector<std::vector<std::string>> rows = read_csv(path_);
    if (!rows.empty() && rows.front() == columns_) {
      for (size_t i = 1; i < rows.size(); ++i) {
        char* end = nullptr;
        const long long it = std::strtoll(rows[i].front().c_str(), &end, 10);
        if (end != rows[i].front().c_str() && it <= keep_until) kept.push_back(rows[i]);
      }
    } else if (!rows.empty()) {
      std::error_code ec;
      std::filesystem::rename(path_, path_ + ".old", ec);
    }
  }
  file_ = std::fopen(path_.c_str(), "w");
  RTSEG_CHECK(file_ != nullptr, "cannot write the log file {}", path_);
  std::fputs((csv_line(columns_) + "\n").c_str(), file_);
  for (const auto& r : kept) std::fputs((csv_line(r) + "\n").c_str(), file_);
  std::fflush(file_);
}

CsvLog::~CsvLog() {
  if (file_) std::fclose(file_);
}

void CsvLog::row(const std::vector<std::string>& values) {
  RTSEG_CHECK(values.size() == columns_.size(), "{}: a row of {} values for {} columns", path_,
              values.size(), columns_.size());
  std::fputs((csv_line(values) + "\n").c_str(), file_);
  std::fflush(file_);
}

}  // namespace rtseg::app
