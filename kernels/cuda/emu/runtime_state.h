// The emulated devices' state, shared by the runtime API (runtime_api.cpp), the kernel launcher
// (block_runner.cpp) and the library emulations (cublas.cpp, cudnn.cpp, cub_radix_sort.cpp).
//
// Work is asynchronous as on a GPU, and maximally so: launches, copies and library calls are
// queued on their stream and run only when the API lets the host observe them (a stream or event
// synchronisation, a copy to pageable host memory, cudaFree). A missing synchronisation therefore
// shows up as stale data instead of being hidden by eager execution. Streams carry their device;
// events order streams; the legacy stream of each device is ordered with its blocking streams.
//
// Everything here requires the runtime lock (lock()) except where said otherwise.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct CUstream_st {
  int device = 0;
  bool non_blocking = false;
  bool legacy = false;  // the device's NULL stream
  std::deque<std::function<void()>> queue;
  uint64_t enqueued = 0;  // work items ever queued
  uint64_t executed = 0;  // work items run (or dropped after a fault)
};

struct CUevent_st {
  int device = 0;
  bool timing = true;
  std::shared_ptr<CUstream_st> stream;  // of the last record; null when never recorded
  uint64_t position = 0;                // the stream's `enqueued` right after the record
  uint64_t generation = 0;              // records so far (a re-record supersedes the old marker)
  double time_ms = 0;                   // host clock when the marker ran
};

namespace rtseg::emu {

// A fault found while running device work (a barrier or shuffle misuse, a deadlock): the work
// throws it, the stream's device records it as a sticky error, like a GPU's kernel fault.
struct KernelFault {
  std::string message;
  cudaError_t code = cudaErrorLaunchFailure;
};

struct Allocation {
  size_t bytes = 0;
  int device = 0;
};

struct DeviceState {
  std::shared_ptr<CUstream_st> legacy;
  cudaError_t sticky = cudaSuccess;
  std::string sticky_detail;
  int major = 9, minor = 0;
  size_t capacity = 0, allocated = 0;
};

class Runtime {
 public:
  static Runtime& get();  // never destroyed: tensors may be freed during static destruction

  std::recursive_mutex mutex;
  std::vector<DeviceState> devices;
  std::map<CUstream_st*, std::shared_ptr<CUstream_st>> streams;  // created, not destroyed
  std::map<CUevent_st*, std::shared_ptr<CUevent_st>> events;
  std::map<uintptr_t, Allocation> allocations;  // base address -> allocation

 private:
  Runtime();
};

std::unique_lock<std::recursive_mutex> lock();

// The calling thread's current device (cudaSetDevice), as in the CUDA runtime.
int current_device();
void set_current_device(int device);
bool valid_device(int device);

// The stream a handle names (nullptr: the current device's legacy stream); null when unknown.
std::shared_ptr<CUstream_st> resolve_stream(cudaStream_t stream);

// Records `error` as the calling thread's last error (with an optional detail that
// cudaGetErrorString appends) and returns it.
cudaError_t set_error(cudaError_t error, const std::string& detail = "");
// cudaGetLastError / cudaPeekAtLastError of the calling thread.
cudaError_t take_last_error();
cudaError_t peek_last_error();
// What the emulator knows about the latest error with this code ("" when nothing).
std::string last_detail(cudaError_t code);
// The device's sticky error (cudaSuccess when none).
cudaError_t sticky_error(int device);
void record_fault(int device, const std::string& detail, cudaError_t code = cudaErrorLaunchFailure);

// Queues work on a stream (ordering the legacy stream with the device's blocking streams).
void enqueue(const std::shared_ptr<CUstream_st>& stream, std::function<void()> work);
// Runs a stream's work up to (and including) item `position`, or all of it.
void drain(CUstream_st& stream, uint64_t position);
void drain_all(CUstream_st& stream);
void drain_device(int device);

// Whether [p, p + bytes) lies inside one device allocation, and whose.
bool device_range(const void* p, size_t bytes, int* device = nullptr);

}  // namespace rtseg::emu
