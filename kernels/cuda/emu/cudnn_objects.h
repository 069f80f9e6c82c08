// The emulated cuDNN's handles and descriptors, shared by cudnn.cpp (which creates and sets them)
// and cudnn_convolution.cpp (which runs convolutions with them). Everything here requires the
// runtime lock (rtseg::emu::lock()).
#pragma once

#include <cstdint>
#include <set>

#include "cudnn.h"

struct cudnnContext {
  int device = 0;
  cudaStream_t stream = nullptr;  // nullptr: the device's legacy stream
};

struct cudnnTensorStruct {
  bool set = false;  // by cudnnSetTensor4dDescriptor; an unset descriptor is refused
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
};

struct cudnnFilterStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int k = 0, c = 0, h = 0, w = 0;  // c: input channels per group
};

struct cudnnConvolutionStruct {
  bool set = false;  // by cudnnSetConvolution2dDescriptor
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;  // recorded and reported; the sums stay FMA math
};

namespace rtseg::emu::cudnn_objects {

// The live objects of one kind, so that a destroyed or foreign pointer is refused.
template <typename P>
std::set<P>& live() {
  static auto* objects = new std::set<P>();  // never destroyed: handles outlive static destruction
  return *objects;
}

template <typename P>
bool alive(P p) {
  return p && live<P>().count(p) > 0;
}

// Alive and given its values by its Set call.
template <typename P>
bool ready(P p) {
  return alive(p) && p->set;
}

// One spatial output size: floor((in + 2·pad − dil·(filter − 1) − 1) / stride) + 1, or 0 when the
// dilated filter does not fit in the padded input (tested first: C++ division truncates to 0).
inline int64_t output_size(int64_t in, int64_t pad, int64_t filter, int64_t dil, int64_t stride) {
  const int64_t span = in + 2 * pad - dil * (filter - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// The output height and width cuDNN computes for x, w and conv (all set); false when x's channels
// are not w's per-group channels times the group count or the filter outgrows the padded input.
inline bool forward_output(const cudnnTensorStruct& x, const cudnnFilterStruct& w,
                           const cudnnConvolutionStruct& conv, int64_t* oh, int64_t* ow) {
  if (x.c != int64_t{w.c} * conv.groups) return false;
  *oh = output_size(x.h, conv.pad_h, w.h, conv.dil_h, conv.stride_h);
  *ow = output_size(x.w, conv.pad_w, w.w, conv.dil_w, conv.stride_w);
  return *oh >= 1 && *ow >= 1;
}

}  // namespace rtseg::emu::cudnn_objects
