#include "core/storage.h"

#include <cstring>

#include "core/host_allocator.h"
#include "kernels/error.h"

namespace rtseg {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    data_ = host_allocate(bytes);
  } else {
    data_ = cuda_allocate(bytes, device.index);
  }
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    host_release(data_, bytes_);
  } else {
    cuda_release(data_, device_.index);
  }
}

#ifndef RTSEG_HAVE_CUDA
void* cuda_allocate(size_t, int device_index) {
  fail("cannot allocate on cuda:{}: this rtseg was built without CUDA (RTSEG_CUDA=OFF)",
       device_index);
}
void cuda_release(void*, int) noexcept {}
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  RTSEG_CHECK(dst_device.is_cpu() && src_device.is_cpu(),
              "cannot copy {} -> {}: this rtseg was built without CUDA", src_device.str(),
              dst_device.str());
  if (bytes) std::memcpy(dst, src, bytes);
}
#endif

}  // namespace rtseg
