#include "kernels/cuda/emu/coverage.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace rtseg::emu {

namespace {

// "ns::name<T, 3>" -> "name".
std::string kernel_name(const char* launch) {
  std::string s(launch);
  s = s.substr(0, s.find('<'));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  const size_t colon = s.rfind("::");
  return colon == std::string::npos ? s : s.substr(colon + 2);
}

class Coverage {
 public:
  void write_out() {
    std::lock_guard<std::mutex> lock(mutex_);
    const char* file = std::getenv("RTSEG_EMU_COVERAGE");
    if (!file || !*file) return;
    char exe[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string program = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "unknown";
    program = program.substr(program.rfind('/') + 1);
    std::string text = "# program " + program + "\n";
    for (const auto& [name, count] : counts_) text += name + " " + std::to_string(count) + "\n";
    // One append of the whole list, so processes finishing together do not interleave lines.
    const int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    const ssize_t written = write(fd, text.data(), text.size());
    (void)written;
    close(fd);
  }

  void count(const char* launch) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[kernel_name(launch)];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, long> counts_;
};

// Never destroyed (a launch may come from a static destructor); written out at exit.
Coverage& coverage() {
  static Coverage* c = [] {
    auto* made = new Coverage();
    std::atexit([] { coverage().write_out(); });
    return made;
  }();
  return *c;
}

}  // namespace

void start_coverage() { coverage(); }

void count_launch(const char* kernel) { coverage().count(kernel); }

}  // namespace rtseg::emu
