#include "core/storage.h"

#include <cstdlib>
#include <cstring>

#include "kernels/error.h"

namespace rtseg {

namespace {
constexpr size_t kHostAlignment = 64;  // one cache line; also what AVX-512 loads like
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    if (rounded == 0) rounded = kHostAlignment;
    data_ = std::aligned_alloc(kHostAlignment, rounded);
    RTSEG_CHECK(data_ != nullptr, "out of host memory: asked for {} bytes", bytes);
    std::memset(data_, 0, rounded);
  } else {
    data_ = cuda_allocate(bytes, device.index);
  }
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    std::free(data_);
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
