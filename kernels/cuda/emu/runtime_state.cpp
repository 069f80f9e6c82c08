#include "kernels/cuda/emu/runtime_state.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/cuda/emu/coverage.h"

namespace rtseg::emu {

namespace {

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_last_detail;
thread_local cudaError_t t_last_detail_code = cudaSuccess;

long env_long(const char* name, long fallback, long lo, long hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi) {
    std::fprintf(stderr, "rtseg CUDA emulator: %s=%s is not an integer in [%ld, %ld]\n", name, v,
                 lo, hi);
    std::exit(2);
  }
  return x;
}

}  // namespace

// RTSEG_EMU_DEVICES (default 1), RTSEG_EMU_MEMORY_MIB per device (default 16 GiB) and
// RTSEG_EMU_COMPUTE_CAPABILITY (e.g. 75 for 7.5; default 90) shape the emulated machine.
Runtime::Runtime() {
  const long count = env_long("RTSEG_EMU_DEVICES", 1, 0, 16);
  const long mib = env_long("RTSEG_EMU_MEMORY_MIB", 16384, 1, long(1) << 24);
  const long cc = env_long("RTSEG_EMU_COMPUTE_CAPABILITY", 90, 10, 129);
  start_coverage();
  devices.resize(static_cast<size_t>(count));
  for (size_t d = 0; d < devices.size(); ++d) {
    DeviceState& s = devices[d];
    s.legacy = std::make_shared<CUstream_st>();
    s.legacy->device = static_cast<int>(d);
    s.legacy->legacy = true;
    s.capacity = static_cast<size_t>(mib) << 20;
    s.major = static_cast<int>(cc / 10);
    s.minor = static_cast<int>(cc % 10);
  }
}

Runtime& Runtime::get() {
  static Runtime* r = new Runtime();
  return *r;
}

std::unique_lock<std::recursive_mutex> lock() {
  return std::unique_lock<std::recursive_mutex>(Runtime::get().mutex);
}

namespace {
thread_local int t_device = 0;
}

int current_device() { return t_device; }

void set_current_device(int device) { t_device = device; }

bool valid_device(int device) {
  return device >= 0 && device < static_cast<int>(Runtime::get().devices.size());
}

std::shared_ptr<CUstream_st> resolve_stream(cudaStream_t stream) {
  Runtime& rt = Runtime::get();
  if (stream == nullptr) {
    if (!valid_device(t_device)) return nullptr;
    return rt.devices[static_cast<size_t>(t_device)].legacy;
  }
  auto it = rt.streams.find(stream);
  return it == rt.streams.end() ? nullptr : it->second;
}

cudaError_t set_error(cudaError_t error, const std::string& detail) {
  if (error != cudaSuccess) {
    t_last_error = error;
    t_last_detail = detail;
    t_last_detail_code = error;
  }
  return error;
}

cudaError_t take_last_error() {
  const cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}

cudaError_t peek_last_error() { return t_last_error; }

std::string last_detail(cudaError_t code) {
  if (code == t_last_detail_code && !t_last_detail.empty()) return t_last_detail;
  for (const DeviceState& d : Runtime::get().devices) {
    if (d.sticky == code && !d.sticky_detail.empty()) return d.sticky_detail;
  }
  return "";
}

cudaError_t sticky_error(int device) {
  if (!valid_device(device)) return cudaSuccess;
  return Runtime::get().devices[static_cast<size_t>(device)].sticky;
}

void record_fault(int device, const std::string& detail, cudaError_t code) {
  DeviceState& d = Runtime::get().devices.at(static_cast<size_t>(device));
  if (d.sticky != cudaSuccess) return;  // the first fault is the one to report
  d.sticky = code;
  d.sticky_detail = detail;
  std::fprintf(stderr, "rtseg CUDA emulator: kernel fault on cuda:%d: %s\n", device,
               detail.c_str());
}

namespace {

// A work item that waits for `other` to reach `position` (stream ordering through events and
// the legacy stream's implicit synchronisation).
std::function<void()> wait_for(std::shared_ptr<CUstream_st> other, uint64_t position) {
  return [other, position] { drain(*other, position); };
}

void push(CUstream_st& s, std::function<void()> work) {
  s.queue.push_back(std::move(work));
  ++s.enqueued;
}

}  // namespace

void enqueue(const std::shared_ptr<CUstream_st>& stream, std::function<void()> work) {
  Runtime& rt = Runtime::get();
  DeviceState& dev = rt.devices.at(static_cast<size_t>(stream->device));
  if (stream->legacy) {
    for (auto& [handle, s] : rt.streams) {
      if (s->device == stream->device && !s->non_blocking && s->enqueued > s->executed) {
        push(*stream, wait_for(s, s->enqueued));
      }
    }
  } else if (!stream->non_blocking && dev.legacy->enqueued > dev.legacy->executed) {
    push(*stream, wait_for(dev.legacy, dev.legacy->enqueued));
  }
  push(*stream, std::move(work));
}

void drain(CUstream_st& stream, uint64_t position) {
  DeviceState& dev = Runtime::get().devices.at(static_cast<size_t>(stream.device));
  while (stream.executed < position && !stream.queue.empty()) {
    std::function<void()> work = std::move(stream.queue.front());
    stream.queue.pop_front();
    if (dev.sticky == cudaSuccess) {  // after a fault the device runs nothing more
      try {
        work();
      } catch (const KernelFault& f) {
        record_fault(stream.device, f.message, f.code);
      }
    }
    ++stream.executed;
  }
}

void drain_all(CUstream_st& stream) { drain(stream, stream.enqueued); }

void drain_device(int device) {
  Runtime& rt = Runtime::get();
  drain_all(*rt.devices.at(static_cast<size_t>(device)).legacy);
  for (auto& [handle, s] : rt.streams) {
    if (s->device == device) drain_all(*s);
  }
}

bool device_range(const void* p, size_t bytes, int* device) {
  const auto& allocations = Runtime::get().allocations;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = allocations.upper_bound(a);
  if (it == allocations.begin()) return false;
  --it;
  const uintptr_t base = it->first;
  const size_t size = it->second.bytes;
  if (a < base || a - base > size || bytes > size - (a - base)) return false;
  if (device) *device = it->second.device;
  return true;
}

}  // namespace rtseg::emu
