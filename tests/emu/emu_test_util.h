// Helpers for the emulator's own tests: test kernels are compiled exactly as kernels/cuda/*.cu
// are in an emulation build (the device header first, then the launch macro), device buffers,
// and a child-process runner for faults that AddressSanitizer reports by ending the process.
#pragma once

#include "rtseg_emu_device.h"  // what the build force-includes into kernels/cuda/*.cu

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cuda/emu/sanitizer.h"
#include "kernels/cuda/launch.cuh"

namespace rtseg::emu_test {

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    REQUIRE(cudaMalloc(&ptr_, n * sizeof(T)) == cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    REQUIRE(cudaMemcpy(ptr_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  // After a cudaDeviceReset the memory is already gone: the failed free is not the next test's
  // error.
  ~DeviceBuffer() {
    if (cudaFree(ptr_) != cudaSuccess) cudaGetLastError();
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return ptr_; }
  // Copies back (synchronising); fails the test if the device reports an error.
  std::vector<T> download() const {
    std::vector<T> host(n_);
    REQUIRE(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

// The fault the device reports after running its queued work (cudaSuccess when none), and its
// text; then the device is reset so that the next test starts clean.
struct Outcome {
  cudaError_t status = cudaSuccess;
  std::string text;
};

inline Outcome synchronize_and_reset() {
  Outcome o;
  o.status = cudaDeviceSynchronize();
  o.text = cudaGetErrorString(o.status);
  if (o.status != cudaSuccess) cudaDeviceReset();
  return o;
}

// The launch error of the last launch and its text (cleared).
inline Outcome launch_error() {
  Outcome o;
  o.status = cudaGetLastError();
  o.text = cudaGetErrorString(o.status);
  return o;
}

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string stderr_text;
};

// Runs f in a forked child (its return value is the exit code) and collects its stderr: for
// faults that end the process, such as an AddressSanitizer report.
inline ChildResult run_in_child(const std::function<int()>& f) {
  int pipe_fd[2];
  REQUIRE(pipe(pipe_fd) == 0);
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(pipe_fd[0]);
    dup2(pipe_fd[1], 2);
    const int code = f();
    std::fflush(nullptr);
    _exit(code);  // no exit handlers: the parent's coverage and test state stay its own
  }
  close(pipe_fd[1]);
  ChildResult r;
  char buf[4096];
  ssize_t got;
  while ((got = read(pipe_fd[0], buf, sizeof buf)) > 0)
    r.stderr_text.append(buf, static_cast<size_t>(got));
  close(pipe_fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline bool asan_build() {
#ifdef RTSEG_EMU_ASAN
  return true;
#else
  return false;
#endif
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace rtseg::emu_test
