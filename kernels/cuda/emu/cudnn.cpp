// The emulated cuDNN's library calls: status names, handles (each on the device current at
// cudnnCreate, with a stream of that device) and the tensor, filter and convolution descriptors,
// whose values are checked as cuDNN documents. The convolutions are in cudnn_convolution.cpp.
#include "cudnn.h"

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/emu/cudnn_objects.h"
#include "kernels/cuda/emu/runtime_state.h"

using namespace rtseg::emu;
using namespace rtseg::emu::cudnn_objects;

namespace {

template <typename P>
cudnnStatus_t create(P* out) {
  auto guard = lock();
  if (!out) return CUDNN_STATUS_BAD_PARAM;
  P p = new std::remove_pointer_t<P>();
  live<P>().insert(p);
  *out = p;
  return CUDNN_STATUS_SUCCESS;
}

template <typename P>
cudnnStatus_t destroy(P p) {
  auto guard = lock();
  if (!p) return CUDNN_STATUS_SUCCESS;  // like free(NULL)
  if (live<P>().erase(p) == 0) return CUDNN_STATUS_BAD_PARAM;
  delete p;
  return CUDNN_STATUS_SUCCESS;
}

bool valid_type(cudnnDataType_t t) { return t >= CUDNN_DATA_FLOAT && t <= CUDNN_DATA_COMPLEX_FP64; }
bool emulated_type(cudnnDataType_t t) { return t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_DOUBLE; }

// A 4-d tensor or filter: a bad enumerant or a size below 1 is BAD_PARAM; a valid layout or type
// the emulator lacks (it has NCHW float and double) and over 2^31 elements are NOT_SUPPORTED.
cudnnStatus_t check_4d(cudnnTensorFormat_t format, cudnnDataType_t type, int d0, int d1, int d2,
                       int d3) {
  if (format < CUDNN_TENSOR_NCHW || format > CUDNN_TENSOR_NCHW_VECT_C || !valid_type(type)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (d0 < 1 || d1 < 1 || d2 < 1 || d3 < 1) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || !emulated_type(type)) return CUDNN_STATUS_NOT_SUPPORTED;
  if (int64_t{d0} * d1 * d2 * d3 > INT32_MAX) return CUDNN_STATUS_NOT_SUPPORTED;
  return CUDNN_STATUS_SUCCESS;
}

// cudnnGetErrorString's texts: the status names, as cuDNN's.
struct StatusName {
  cudnnStatus_t status;
  const char* name;
};

#define RTSEG_CUDNN_STATUS(name) \
  { name, #name }
constexpr StatusName kStatusNames[] = {
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_SUCCESS),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_INITIALIZED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_DEPRECATED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_LICENSE_ERROR),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_RUNTIME_IN_PROGRESS),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_RUNTIME_FP_OVERFLOW),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_NULL_POINTER),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_SHAPE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_PADDING),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_EXECUTION_FAILED),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_EXECUTION_FAILED_CUBLAS),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_EXECUTION_FAILED_CUDART),
    RTSEG_CUDNN_STATUS(CUDNN_STATUS_EXECUTION_FAILED_CURAND),
};
#undef RTSEG_CUDNN_STATUS

}  // namespace

const char* cudnnGetErrorString(cudnnStatus_t status) {
  for (const StatusName& s : kStatusNames) {
    if (s.status == status) return s.name;
  }
  return "CUDNN_UNKNOWN_STATUS_FOUND";
}

// ---- handles (cuDNN refuses a NULL one with BAD_PARAM; the emulator also a destroyed one)

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  auto guard = lock();
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (!valid_device(current_device())) return CUDNN_STATUS_NOT_INITIALIZED;
  if (const cudnnStatus_t s = create(handle); s != CUDNN_STATUS_SUCCESS) return s;
  (*handle)->device = current_device();
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  return destroy(handle);
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
  auto guard = lock();
  if (!alive(handle)) return CUDNN_STATUS_BAD_PARAM;
  if (stream) {  // the stream must exist and be of the handle's device
    auto s = resolve_stream(stream);
    if (!s) return CUDNN_STATUS_BAD_PARAM;
    if (s->device != handle->device) return CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH;
  }
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t* stream) {
  auto guard = lock();
  if (!alive(handle) || !stream) return CUDNN_STATUS_BAD_PARAM;
  *stream = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

// ---- descriptors

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* desc) { return create(desc); }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc) { return destroy(desc); }
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* desc) { return create(desc); }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc) { return destroy(desc); }
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* desc) {
  return create(desc);
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc) {
  return destroy(desc);
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n, int c, int h, int w) {
  auto guard = lock();
  if (!alive(desc)) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = check_4d(format, dataType, n, c, h, w); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  *desc = cudnnTensorStruct{true, dataType, n, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  auto guard = lock();
  if (!alive(desc)) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = check_4d(format, dataType, k, c, h, w); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  *desc = cudnnFilterStruct{true, dataType, k, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h,
                                              int pad_w, int u, int v, int dilation_h,
                                              int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  auto guard = lock();
  if (!alive(desc) || pad_h < 0 || pad_w < 0 || u < 1 || v < 1 || dilation_h < 1 ||
      dilation_w < 1 || (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION) ||
      !valid_type(computeType)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (!emulated_type(computeType)) return CUDNN_STATUS_NOT_SUPPORTED;
  desc->set = true;
  desc->pad_h = pad_h, desc->pad_w = pad_w, desc->stride_h = u, desc->stride_w = v;
  desc->dil_h = dilation_h, desc->dil_w = dilation_w, desc->mode = mode;
  desc->compute = computeType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t desc, int groupCount) {
  auto guard = lock();
  if (!alive(desc) || groupCount < 1) return CUDNN_STATUS_BAD_PARAM;
  desc->groups = groupCount;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc,
                                          cudnnMathType_t mathType) {
  auto guard = lock();
  if (!alive(desc) || mathType < CUDNN_DEFAULT_MATH || mathType > CUDNN_FMA_MATH) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  desc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t conv,
                                                    const cudnnTensorDescriptor_t x,
                                                    const cudnnFilterDescriptor_t w, int* n, int* c,
                                                    int* h, int* width) {
  auto guard = lock();
  if (!n || !c || !h || !width || !ready(conv) || !ready(x) || !ready(w)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  int64_t oh = 0, ow = 0;
  if (!forward_output(*x, *w, *conv, &oh, &ow)) return CUDNN_STATUS_BAD_PARAM;
  *n = x->n, *c = w->k, *h = static_cast<int>(oh), *width = static_cast<int>(ow);
  return CUDNN_STATUS_SUCCESS;
}
