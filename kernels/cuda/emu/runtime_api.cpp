// The CUDA runtime functions rtseg calls, on the emulated devices of runtime_state.h. Argument
// checks and error codes follow the CUDA runtime's documentation; every failing call also becomes
// the thread's last error, and a device with a kernel fault answers every later call with it.
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cuda/emu/runtime_state.h"

using namespace rtseg::emu;

namespace {

constexpr size_t kAllocationAlignment = 256;      // what cudaMalloc guarantees
constexpr unsigned char kFreshMemoryByte = 0xFF;  // NaN in float and double: unwritten data shows

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

// The runtime's checks common to every call on the current device.
cudaError_t device_ready() {
  if (Runtime::get().devices.empty()) return set_error(cudaErrorNoDevice);
  if (!valid_device(current_device())) return set_error(cudaErrorInvalidDevice);
  return set_error(sticky_error(current_device()));
}

std::shared_ptr<CUevent_st> find_event(cudaEvent_t e) {
  auto& events = Runtime::get().events;
  auto it = events.find(e);
  return it == events.end() ? nullptr : it->second;
}

bool is_device_pointer(const void* p) { return device_range(p, 1); }

}  // namespace

// ---- devices

cudaError_t cudaGetDeviceCount(int* count) {
  auto guard = lock();
  if (!count) return set_error(cudaErrorInvalidValue);
  *count = static_cast<int>(Runtime::get().devices.size());
  return *count == 0 ? set_error(cudaErrorNoDevice, "RTSEG_EMU_DEVICES=0") : cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  auto guard = lock();
  if (!device) return set_error(cudaErrorInvalidValue);
  *device = current_device();
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  auto guard = lock();
  if (!valid_device(device)) {
    return set_error(cudaErrorInvalidDevice, "cuda:" + std::to_string(device) + " of " +
                                                 std::to_string(Runtime::get().devices.size()) +
                                                 " emulated device(s)");
  }
  set_current_device(device);
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  auto guard = lock();
  if (!prop) return set_error(cudaErrorInvalidValue);
  if (!valid_device(device)) return set_error(cudaErrorInvalidDevice);
  const DeviceState& d = Runtime::get().devices[static_cast<size_t>(device)];
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "rtseg emulated GPU (sm_%d%d on the CPU)", d.major,
                d.minor);
  prop->totalGlobalMem = d.capacity;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = 227 * 1024;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = INT_MAX;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->major = d.major;
  prop->minor = d.minor;
  prop->multiProcessorCount = 132;
  prop->l2CacheSize = 50 << 20;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  const cudaError_t status = cudaGetDeviceProperties(&p, device);
  if (status != cudaSuccess) return status;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
      *value = p.maxThreadsDim[0];
      break;
    case cudaDevAttrMaxBlockDimY:
      *value = p.maxThreadsDim[1];
      break;
    case cudaDevAttrMaxBlockDimZ:
      *value = p.maxThreadsDim[2];
      break;
    case cudaDevAttrMaxGridDimX:
      *value = p.maxGridSize[0];
      break;
    case cudaDevAttrMaxGridDimY:
      *value = p.maxGridSize[1];
      break;
    case cudaDevAttrMaxGridDimZ:
      *value = p.maxGridSize[2];
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(p.sharedMemPerBlock);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    default:
      return set_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  auto guard = lock();
  if (const cudaError_t e = device_ready(); e != cudaSuccess && e != cudaErrorLaunchFailure)
    return e;
  drain_device(current_device());
  return set_error(sticky_error(current_device()));
}

cudaError_t cudaDeviceReset() {
  auto guard = lock();
  const int device = current_device();
  if (!valid_device(device)) return set_error(cudaErrorInvalidDevice);
  Runtime& rt = Runtime::get();
  DeviceState& d = rt.devices[static_cast<size_t>(device)];
  const auto drop = [](CUstream_st& s) {
    s.queue.clear();
    s.executed = s.enqueued;
  };
  drop(*d.legacy);
  for (auto it = rt.streams.begin(); it != rt.streams.end();) {
    if (it->second->device == device) {
      drop(*it->second);
      it = rt.streams.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = rt.events.begin(); it != rt.events.end();) {
    it = it->second->device == device ? rt.events.erase(it) : std::next(it);
  }
  for (auto it = rt.allocations.begin(); it != rt.allocations.end();) {
    if (it->second.device == device) {
      std::free(reinterpret_cast<void*>(it->first));
      it = rt.allocations.erase(it);
    } else {
      ++it;
    }
  }
  d.allocated = 0;
  d.sticky = cudaSuccess;
  d.sticky_detail.clear();
  take_last_error();
  return cudaSuccess;
}

// ---- errors

cudaError_t cudaGetLastError() {
  auto guard = lock();
  const cudaError_t sticky = sticky_error(current_device());
  if (sticky != cudaSuccess) return sticky;  // sticky errors cannot be cleared
  return take_last_error();
}

cudaError_t cudaPeekAtLastError() {
  auto guard = lock();
  const cudaError_t sticky = sticky_error(current_device());
  return sticky != cudaSuccess ? sticky : peek_last_error();
}

// ---- streams and events

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  auto guard = lock();
  if (!stream || flags > cudaStreamNonBlocking) return set_error(cudaErrorInvalidValue);
  if (const cudaError_t e = device_ready(); e != cudaSuccess) return e;
  auto s = std::make_shared<CUstream_st>();
  s->device = current_device();
  s->non_blocking = (flags & cudaStreamNonBlocking) != 0;
  Runtime::get().streams.emplace(s.get(), s);
  *stream = s.get();
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  auto guard = lock();
  auto& streams = Runtime::get().streams;
  auto it = streams.find(stream);
  if (it == streams.end()) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  drain_all(*it->second);  // pending work still completes, as the runtime promises
  streams.erase(it);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  drain_all(*s);
  return set_error(sticky_error(s->device));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  if (const cudaError_t e = sticky_error(s->device); e != cudaSuccess) return set_error(e);
  return s->executed == s->enqueued ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  auto e = find_event(event);
  if (!s || !e) return set_error(cudaErrorInvalidResourceHandle, "unknown stream or event");
  if (!e->stream) return cudaSuccess;  // never recorded: nothing to wait for
  std::shared_ptr<CUstream_st> other = e->stream;
  const uint64_t position = e->position;
  enqueue(s, [other, position] { drain(*other, position); });
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  auto guard = lock();
  if (!event || flags > (cudaEventBlockingSync | cudaEventDisableTiming)) {
    return set_error(cudaErrorInvalidValue);
  }
  if (const cudaError_t e = device_ready(); e != cudaSuccess) return e;
  auto e = std::make_shared<CUevent_st>();
  e->device = current_device();
  e->timing = (flags & cudaEventDisableTiming) == 0;
  Runtime::get().events.emplace(e.get(), e);
  *event = e.get();
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  auto guard = lock();
  if (Runtime::get().events.erase(event) == 0) {
    return set_error(cudaErrorInvalidResourceHandle, "unknown event");
  }
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  auto e = find_event(event);
  if (!s || !e) return set_error(cudaErrorInvalidResourceHandle, "unknown stream or event");
  if (e->device != s->device) {
    return set_error(cudaErrorInvalidResourceHandle,
                     "an event of cuda:" + std::to_string(e->device) +
                         " recorded on a stream of cuda:" + std::to_string(s->device));
  }
  if (const cudaError_t err = sticky_error(s->device); err != cudaSuccess) return set_error(err);
  const uint64_t generation = ++e->generation;
  enqueue(s, [e, generation] {
    if (e->generation == generation) e->time_ms = now_ms();
  });
  e->stream = s;
  e->position = s->enqueued;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  auto guard = lock();
  auto e = find_event(event);
  if (!e) return set_error(cudaErrorInvalidResourceHandle, "unknown event");
  if (!e->stream) return cudaSuccess;
  drain(*e->stream, e->position);
  return set_error(sticky_error(e->stream->device));
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  auto guard = lock();
  auto e = find_event(event);
  if (!e) return set_error(cudaErrorInvalidResourceHandle, "unknown event");
  return !e->stream || e->stream->executed >= e->position ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto guard = lock();
  auto a = find_event(start), b = find_event(end);
  if (!ms) return set_error(cudaErrorInvalidValue);
  if (!a || !b || !a->timing || !b->timing || !a->stream || !b->stream || a->device != b->device) {
    return set_error(cudaErrorInvalidResourceHandle,
                     "both events must exist, be recorded on one device and keep timing");
  }
  if (a->stream->executed < a->position || b->stream->executed < b->position) {
    return set_error(cudaErrorNotReady);
  }
  *ms = static_cast<float>(b->time_ms - a->time_ms);
  return cudaSuccess;
}

// ---- memory

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  auto guard = lock();
  if (!ptr) return set_error(cudaErrorInvalidValue);
  *ptr = nullptr;
  if (const cudaError_t e = device_ready(); e != cudaSuccess) return e;
  DeviceState& d = Runtime::get().devices[static_cast<size_t>(current_device())];
  if (bytes == 0) return cudaSuccess;
  if (bytes > d.capacity - d.allocated) {
    return set_error(cudaErrorMemoryAllocation, std::to_string(bytes) + " bytes asked, " +
                                                    std::to_string(d.capacity - d.allocated) +
                                                    " free (RTSEG_EMU_MEMORY_MIB)");
  }
  void* p = nullptr;
  if (posix_memalign(&p, kAllocationAlignment, bytes) != 0) {
    return set_error(cudaErrorMemoryAllocation, "the host has no memory for the emulated device");
  }
  std::memset(p, kFreshMemoryByte, bytes);
  Runtime::get().allocations[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, current_device()};
  d.allocated += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  auto guard = lock();
  if (!ptr) return cudaSuccess;
  Runtime& rt = Runtime::get();
  auto it = rt.allocations.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == rt.allocations.end()) {
    return set_error(cudaErrorInvalidValue, "cudaFree of a pointer cudaMalloc did not return");
  }
  const Allocation a = it->second;
  drain_device(a.device);  // cudaFree synchronises: queued work may still use the block
  rt.allocations.erase(reinterpret_cast<uintptr_t>(ptr));
  rt.devices[static_cast<size_t>(a.device)].allocated -= a.bytes;
  std::free(ptr);
  return set_error(sticky_error(a.device));
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  auto guard = lock();
  if (const cudaError_t e = device_ready(); e != cudaSuccess) return e;
  const DeviceState& d = Runtime::get().devices[static_cast<size_t>(current_device())];
  if (free_bytes) *free_bytes = d.capacity - d.allocated;
  if (total_bytes) *total_bytes = d.capacity;
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  if (const cudaError_t e = sticky_error(s->device); e != cudaSuccess) return set_error(e);
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return set_error(cudaErrorInvalidValue, "null pointer");
  if (kind == cudaMemcpyDefault) {
    const bool d = is_device_pointer(dst), h = is_device_pointer(src);
    kind = d ? (h ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
             : (h ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  const bool dst_ok = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice
                          ? device_range(dst, bytes)
                          : !is_device_pointer(dst);
  const bool src_ok = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice
                          ? device_range(src, bytes)
                          : !is_device_pointer(src);
  if (kind > cudaMemcpyDefault) return set_error(cudaErrorInvalidMemcpyDirection);
  if (!dst_ok || !src_ok) {
    return set_error(cudaErrorInvalidValue,
                     "cudaMemcpyAsync: a range outside device allocations, or pointers that do not "
                     "match the copy kind");
  }
  if (kind == cudaMemcpyHostToDevice) {
    // From pageable memory the source is staged at once, so the caller may reuse it.
    auto staged = std::make_shared<std::vector<unsigned char>>(
        static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + bytes);
    enqueue(s, [dst, staged] { std::memcpy(dst, staged->data(), staged->size()); });
    return cudaSuccess;
  }
  enqueue(s, [dst, src, bytes] { std::memcpy(dst, src, bytes); });
  // Into pageable host memory the call returns only when the copy is done.
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyHostToHost) drain_all(*s);
  return set_error(sticky_error(s->device));
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
  return e != cudaSuccess ? e : cudaStreamSynchronize(nullptr);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device,
                                size_t bytes, cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  if (!valid_device(dst_device) || !valid_device(src_device)) {
    return set_error(cudaErrorInvalidDevice);
  }
  if (const cudaError_t e = sticky_error(s->device); e != cudaSuccess) return set_error(e);
  if (bytes == 0) return cudaSuccess;
  int dd = -1, sd = -1;
  if (!device_range(dst, bytes, &dd) || !device_range(src, bytes, &sd) || dd != dst_device ||
      sd != src_device) {
    return set_error(cudaErrorInvalidValue,
                     "cudaMemcpyPeer: the ranges are not allocations of the devices named");
  }
  enqueue(s, [dst, src, bytes] { std::memcpy(dst, src, bytes); });
  return cudaSuccess;
}

// On the legacy stream: ordered with the blocking streams, not with non-blocking ones.
cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device,
                           size_t bytes) {
  return cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, nullptr);
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  auto guard = lock();
  auto s = resolve_stream(stream);
  if (!s) return set_error(cudaErrorInvalidResourceHandle, "unknown stream");
  if (const cudaError_t e = sticky_error(s->device); e != cudaSuccess) return set_error(e);
  if (bytes == 0) return cudaSuccess;
  if (!device_range(ptr, bytes)) {
    return set_error(cudaErrorInvalidValue, "cudaMemset: a range outside device allocations");
  }
  enqueue(s, [ptr, value, bytes] { std::memset(ptr, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  const cudaError_t e = cudaMemsetAsync(ptr, value, bytes, nullptr);
  return e != cudaSuccess ? e : cudaStreamSynchronize(nullptr);
}
