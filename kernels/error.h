// Errors: every failure in library code is an rtseg::Error that says what and where.
// Library code never calls exit() or abort(); apps catch Error at the top and print it.
// Defined in the lowest layer (kernels/, which includes nothing above it) so that kernels, the
// CUDA runtime and everything built on them report through the one type.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace rtseg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace rtseg

// RTSEG_CHECK(cond, "conv2d: weight has {} channels, input {}", a, b)
#define RTSEG_CHECK(cond, ...)    \
  do {                            \
    if (!(cond)) {                \
      ::rtseg::fail(__VA_ARGS__); \
    }                             \
  } while (false)
