// Storage: one reference-counted block of memory on one device. Tensors are views of it
// (offset + shape + strides), so reshape and channel slices share memory without copies.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

namespace rtseg {

class Storage {
 public:
  // Allocates `bytes` on `device`, uninitialised on either (every op writes its outputs in full;
  // host blocks come from the caching allocator of core/host_allocator.h, whose poison mode
  // checks that promise in the tests).
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// Device memory hooks, implemented by the CUDA runtime when rtseg is built with CUDA and
// throwing a clear error otherwise.
void* cuda_allocate(size_t bytes, int device_index);
void cuda_release(void* ptr, int device_index) noexcept;
// Copies between any two devices (host<->device, device<->device, host<->host).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace rtseg
