// Errors of the data pipeline: an rtseg::Error that also says what kind of problem it was, so
// that check_dataset can count missing files apart from corrupt ones or size mismatches. Every
// message names the file (and the line, for list files) it is about.
#pragma once

#include <string>

#include "kernels/error.h"

namespace rtseg::data {

enum class DataErrorKind {
  MissingFile,   // a file named by a list or a layout does not exist or cannot be opened
  Corrupt,       // the file exists but cannot be decoded (truncated, bad header, bad data)
  Format,        // decodable, but not what is expected here (channels, bit depth, colours)
  SizeMismatch,  // image and label (or label maps) differ in size
  Syntax,        // a malformed line in a list / class / remap file
  Value,         // a label value that is neither a class nor the ignore value
};

inline const char* data_error_kind_name(DataErrorKind k) {
  switch (k) {
    case DataErrorKind::MissingFile:
      return "missing file";
    case DataErrorKind::Corrupt:
      return "corrupt file";
    case DataErrorKind::Format:
      return "wrong format";
    case DataErrorKind::SizeMismatch:
      return "size mismatch";
    case DataErrorKind::Syntax:
      return "syntax error";
    case DataErrorKind::Value:
      return "bad label value";
  }
  return "?";
}

class DataError : public Error {
 public:
  DataError(DataErrorKind kind, const std::string& what) : Error(what), kind_(kind) {}
  DataErrorKind kind() const { return kind_; }

 private:
  DataErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void data_fail(DataErrorKind kind, fmt::format_string<Args...> format,
                            Args&&... args) {
  throw DataError(kind, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace rtseg::data
