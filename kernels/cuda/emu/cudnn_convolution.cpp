// cuDNN's legacy convolution calls on the emulated devices of runtime_state.h. Arguments are
// checked as cuDNN documents (x/w/y agreement, NULL pointers, algorithm, workspace size), plus what
// only an emulator can check: every buffer is a device range of its full size on the handle's
// device, no output overlaps an input or the workspace, and the handle's stream is one of its
// device. The computation (cudnn_conv_kernels.h) is queued on that stream; Find*Ex runs it
// before returning, as cuDNN's does.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cudnn.h"
#include "kernels/cuda/emu/cudnn_conv_kernels.h"
#include "kernels/cuda/emu/cudnn_objects.h"
#include "kernels/cuda/emu/runtime_state.h"

using namespace rtseg::emu;
using namespace rtseg::emu::cudnn_objects;
using cudnn_conv::Pass;

namespace {

// A convolution whose descriptors agree, captured by value into queued work.
struct Problem {
  cudnn_conv::Shape shape;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t element() const { return type == CUDNN_DATA_DOUBLE ? sizeof(double) : sizeof(float); }
  size_t x_bytes() const { return static_cast<size_t>(shape.x_size()) * element(); }
  size_t w_bytes() const { return static_cast<size_t>(shape.w_size()) * element(); }
  size_t y_bytes() const { return static_cast<size_t>(shape.y_size()) * element(); }
  size_t output_bytes(Pass pass) const {
    return pass == Pass::kForward ? y_bytes() : pass == Pass::kBackwardData ? x_bytes() : w_bytes();
  }
};

// The x/w/conv/y agreement every convolution call requires (BAD_PARAM otherwise): all set, one
// data type, x's channels = w's per-group channels × groups, w's outputs a multiple of the
// groups, y exactly the output cudnnGetConvolution2dForwardOutputDim computes.
cudnnStatus_t make_problem(cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                           cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                           Problem* p) {
  if (!ready(x) || !ready(w) || !ready(conv) || !ready(y)) return CUDNN_STATUS_BAD_PARAM;
  if (x->type != w->type || y->type != x->type) return CUDNN_STATUS_BAD_PARAM;
  int64_t oh = 0, ow = 0;
  if (!forward_output(*x, *w, *conv, &oh, &ow) || w->k % conv->groups != 0) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (y->n != x->n || y->c != w->k || y->h != oh || y->w != ow) return CUDNN_STATUS_BAD_PARAM;
  // cuDNN's supported configurations compute float data in float and double data in double.
  if (conv->compute != x->type) return CUDNN_STATUS_NOT_SUPPORTED;
  cudnn_conv::Shape& g = p->shape;
  g.n = x->n, g.c = x->c, g.h = x->h, g.w = x->w;
  g.k = w->k, g.c_per_group = w->c, g.r = w->h, g.s = w->w, g.groups = conv->groups;
  g.pad_h = conv->pad_h, g.pad_w = conv->pad_w, g.stride_h = conv->stride_h;
  g.stride_w = conv->stride_w, g.dil_h = conv->dil_h, g.dil_w = conv->dil_w;
  g.oh = oh, g.ow = ow, g.flip = conv->mode == CUDNN_CONVOLUTION;
  p->type = x->type;
  p->math = conv->math;
  return CUDNN_STATUS_SUCCESS;
}

int algo_count(Pass pass) {
  switch (pass) {
    case Pass::kForward:
      return CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    case Pass::kBackwardData:
      return CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    case Pass::kBackwardFilter:
      return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}

// What a workspace query and a compute call say about the algorithm itself.
cudnnStatus_t algo_workspace(Pass pass, int algo, const Problem& p, size_t* bytes) {
  if (algo < 0 || algo >= algo_count(pass)) return CUDNN_STATUS_BAD_PARAM;
  if (!cudnn_conv::workspace_bytes(pass, algo, p.shape, p.element(), bytes)) {
    return CUDNN_STATUS_NOT_SUPPORTED;
  }
  return CUDNN_STATUS_SUCCESS;
}

// The pointers of one call, as its descriptors name them; `out` is the one the pass writes.
struct Buffers {
  const void* x;
  const void* w;
  const void* y;
  void* out;
};

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

bool on_device(const void* p, size_t bytes, int device) {
  int owner = -1;
  return device_range(p, bytes, &owner) && owner == device;
}

bool overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && address(a) < address(b) + b_bytes &&
         address(b) < address(a) + a_bytes;
}

// The checks of every compute and Find call after the descriptors': the buffers, then the stream
// and device the work would run on (`stream` on success).
cudnnStatus_t check_launch(cudnnHandle_t h, Pass pass, const Problem& p, const Buffers& b,
                           const void* ws, size_t ws_bytes, std::shared_ptr<CUstream_st>* stream) {
  if (!b.x || !b.w || !b.y) return CUDNN_STATUS_BAD_PARAM;
  if (ws_bytes > 0 && !ws) return CUDNN_STATUS_BAD_PARAM;
  if ((address(b.x) | address(b.w) | address(b.y) | address(ws)) % p.element() != 0) {
    return CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
  }
  const size_t x_bytes = p.x_bytes(), w_bytes = p.w_bytes(), y_bytes = p.y_bytes();
  if (!on_device(b.x, x_bytes, h->device) || !on_device(b.w, w_bytes, h->device) ||
      !on_device(b.y, y_bytes, h->device) ||
      (ws_bytes > 0 && !on_device(ws, ws_bytes, h->device))) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  // cuDNN never works in place: the output must not alias an input, nor the workspace anything.
  const bool x_out = pass == Pass::kBackwardData, w_out = pass == Pass::kBackwardFilter;
  const bool y_out = pass == Pass::kForward;
  const size_t out_bytes = p.output_bytes(pass);
  if ((!x_out && overlap(b.out, out_bytes, b.x, x_bytes)) ||
      (!w_out && overlap(b.out, out_bytes, b.w, w_bytes)) ||
      (!y_out && overlap(b.out, out_bytes, b.y, y_bytes)) || overlap(ws, ws_bytes, b.x, x_bytes) ||
      overlap(ws, ws_bytes, b.w, w_bytes) || overlap(ws, ws_bytes, b.y, y_bytes)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  *stream = h->stream ? resolve_stream(h->stream)
                      : Runtime::get().devices[static_cast<size_t>(h->device)].legacy;
  if (!*stream || (*stream)->device != h->device) return CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH;
  // The handle's kernels launch on the current device, which must be the handle's and healthy.
  if (current_device() != h->device || sticky_error(h->device) != cudaSuccess) {
    return CUDNN_STATUS_EXECUTION_FAILED;
  }
  return CUDNN_STATUS_SUCCESS;
}

template <typename T>
void queue_typed(const std::shared_ptr<CUstream_st>& stream, Pass pass, int algo, const Problem& p,
                 const Buffers& b, void* ws, T alpha, T beta) {
  const cudnn_conv::Shape g = p.shape;
  enqueue(stream, [=] {
    const std::vector<T> result =
        cudnn_conv::compute<T>(pass, algo, g, static_cast<const T*>(b.x),
                               static_cast<const T*>(b.w), static_cast<const T*>(b.y), ws);
    T* out = static_cast<T*>(b.out);
    for (size_t i = 0; i < result.size(); ++i) {
      out[i] = beta == T(0) ? alpha * result[i] : alpha * result[i] + beta * out[i];  // 0: unread
    }
  });
}

// Queues out = alpha·pass(inputs) + beta·out; alpha and beta are read now, in the data type.
void queue(const std::shared_ptr<CUstream_st>& stream, Pass pass, int algo, const Problem& p,
           const Buffers& b, void* ws, const void* alpha, const void* beta) {
  if (p.type == CUDNN_DATA_DOUBLE) {
    queue_typed(stream, pass, algo, p, b, ws, *static_cast<const double*>(alpha),
                *static_cast<const double*>(beta));
  } else {
    queue_typed(stream, pass, algo, p, b, ws, *static_cast<const float*>(alpha),
                *static_cast<const float*>(beta));
  }
}

cudnnStatus_t workspace_query(Pass pass, cudnnHandle_t h, cudnnTensorDescriptor_t x,
                              cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                              cudnnTensorDescriptor_t y, int algo, size_t* bytes) {
  auto guard = lock();
  if (!alive(h) || !bytes) return CUDNN_STATUS_BAD_PARAM;
  Problem p;
  if (const cudnnStatus_t s = make_problem(x, w, conv, y, &p); s != CUDNN_STATUS_SUCCESS) return s;
  return algo_workspace(pass, algo, p, bytes);
}

cudnnStatus_t run(Pass pass, cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t x,
                  cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                  cudnnTensorDescriptor_t y, int algo, void* ws, size_t ws_bytes, const void* beta,
                  const Buffers& b) {
  auto guard = lock();
  if (!alive(h) || !alpha || !beta) return CUDNN_STATUS_BAD_PARAM;
  Problem p;
  if (const cudnnStatus_t s = make_problem(x, w, conv, y, &p); s != CUDNN_STATUS_SUCCESS) return s;
  size_t need = 0;
  if (const cudnnStatus_t s = algo_workspace(pass, algo, p, &need); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (ws_bytes < need) return CUDNN_STATUS_BAD_PARAM;
  std::shared_ptr<CUstream_st> stream;
  if (const cudnnStatus_t s = check_launch(h, pass, p, b, ws, ws_bytes, &stream);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  queue(stream, pass, algo, p, b, ws, alpha, beta);
  return CUDNN_STATUS_SUCCESS;
}

// cuDNN labels the backward ALGO_0s non-deterministic (their GPU kernels add with atomics); the
// emulated loops are deterministic anyway.
cudnnDeterminism_t determinism(Pass pass, int algo) {
  return pass != Pass::kForward && algo == cudnn_conv::kBackwardAlgo0 ? CUDNN_NON_DETERMINISTIC
                                                                      : CUDNN_DETERMINISTIC;
}

// Emulated timing, deterministic: multiply-adds at 1 GMAC/s times a per-algorithm factor that
// ranks the algorithms using a workspace first (as they usually win on a GPU), so that callers
// run their workspace path.
float emulated_ms(Pass pass, int algo, const cudnn_conv::Shape& g) {
  const double macs = static_cast<double>(g.y_size()) * static_cast<double>(g.taps());
  double factor = 1.5;  // the workspace-free algorithms
  if (pass == Pass::kForward && algo == cudnn_conv::kForwardGemm) factor = 1.0;
  if (pass == Pass::kForward && algo == cudnn_conv::kForwardPrecompGemm) factor = 1.25;
  if (pass != Pass::kForward && algo == cudnn_conv::kBackwardAlgo1) factor = 1.0;
  return static_cast<float>(macs * 1e-6 * factor);
}

// The math an algorithm reports: the descriptor's, except that double has no tensor-op math.
cudnnMathType_t reported_math(const Problem& p) {
  const bool tensor_op =
      p.math == CUDNN_TENSOR_OP_MATH || p.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  return p.type == CUDNN_DATA_DOUBLE && tensor_op ? CUDNN_DEFAULT_MATH : p.math;
}

template <typename Perf>
cudnnStatus_t find(Pass pass, cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                   cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, const Buffers& b,
                   int requested, int* returned, Perf* perf, void* ws, size_t ws_bytes) {
  auto guard = lock();
  if (!alive(h) || !returned || !perf || requested < 1) return CUDNN_STATUS_BAD_PARAM;
  Problem p;
  if (const cudnnStatus_t s = make_problem(x, w, conv, y, &p); s != CUDNN_STATUS_SUCCESS) return s;
  std::shared_ptr<CUstream_st> stream;
  if (const cudnnStatus_t s = check_launch(h, pass, p, b, ws, ws_bytes, &stream);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  drain_all(*stream);  // synchronous, as cuDNN's Find: earlier work first
  std::vector<Perf> results;
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const bool is_double = p.type == CUDNN_DATA_DOUBLE;
  for (int algo = 0; algo < algo_count(pass); ++algo) {
    Perf r{};
    r.algo = static_cast<decltype(r.algo)>(algo);
    r.time = -1;
    r.determinism = determinism(pass, algo);
    r.mathType = reported_math(p);
    size_t need = 0;
    if (!cudnn_conv::workspace_bytes(pass, algo, p.shape, p.element(), &need)) {
      r.status = CUDNN_STATUS_NOT_SUPPORTED;
    } else if (need > ws_bytes) {
      r.status = CUDNN_STATUS_ALLOC_FAILED;  // cuDNN's status for a too-small workspace
      r.memory = need;
    } else {
      queue(stream, pass, algo, p, b, ws, is_double ? static_cast<const void*>(&one_d) : &one_f,
            is_double ? static_cast<const void*>(&zero_d) : &zero_f);
      r.status = CUDNN_STATUS_SUCCESS;
      r.memory = need;
      r.time = emulated_ms(pass, algo, p.shape);
    }
    results.push_back(r);
  }
  // cuDNN leaves some algorithm's output behind; NaN bytes catch callers that do not recompute.
  void* out = b.out;
  const size_t out_bytes = p.output_bytes(pass);
  enqueue(stream, [out, out_bytes] { std::memset(out, 0xFF, out_bytes); });
  drain_all(*stream);
  if (sticky_error(h->device) != cudaSuccess) return CUDNN_STATUS_EXECUTION_FAILED;
  // Fastest first, then the algorithms that did not run, in enum order.
  std::stable_sort(results.begin(), results.end(), [](const Perf& first, const Perf& second) {
    const bool first_ran = first.status == CUDNN_STATUS_SUCCESS;
    const bool second_ran = second.status == CUDNN_STATUS_SUCCESS;
    if (first_ran != second_ran) return first_ran;
    return first_ran && first.time < second.time;
  });
  const int count = std::min(requested, static_cast<int>(results.size()));
  std::copy(results.begin(), results.begin() + count, perf);
  *returned = count;
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

// ---- forward

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnFilterDescriptor_t wDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t yDesc,
    cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) {
  return workspace_query(Pass::kForward, handle, xDesc, wDesc, convDesc, yDesc, algo, sizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void* x,
    const cudnnFilterDescriptor_t wDesc, const void* w, const cudnnConvolutionDescriptor_t convDesc,
    const cudnnTensorDescriptor_t yDesc, void* y, const int requestedAlgoCount,
    int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults, void* workSpace,
    size_t workSpaceSizeInBytes) {
  return find(Pass::kForward, handle, xDesc, wDesc, convDesc, yDesc, Buffers{x, w, y, y},
              requestedAlgoCount, returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha,
                                      const cudnnTensorDescriptor_t xDesc, const void* x,
                                      const cudnnFilterDescriptor_t wDesc, const void* w,
                                      const cudnnConvolutionDescriptor_t convDesc,
                                      cudnnConvolutionFwdAlgo_t algo, void* workSpace,
                                      size_t workSpaceSizeInBytes, const void* beta,
                                      const cudnnTensorDescriptor_t yDesc, void* y) {
  return run(Pass::kForward, handle, alpha, xDesc, wDesc, convDesc, yDesc, algo, workSpace,
             workSpaceSizeInBytes, beta, Buffers{x, w, y, y});
}

// ---- backward data

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc,
    cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return workspace_query(Pass::kBackwardData, handle, dxDesc, wDesc, convDesc, dyDesc, algo,
                         sizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const void* w,
    const cudnnTensorDescriptor_t dyDesc, const void* dy,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc, void* dx,
    const int requestedAlgoCount, int* returnedAlgoCount,
    cudnnConvolutionBwdDataAlgoPerf_t* perfResults, void* workSpace, size_t workSpaceSizeInBytes) {
  return find(Pass::kBackwardData, handle, dxDesc, wDesc, convDesc, dyDesc, Buffers{dx, w, dy, dx},
              requestedAlgoCount, returnedAlgoCount, perfResults, workSpace, workSpaceSizeInBytes);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                           const cudnnFilterDescriptor_t wDesc, const void* w,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                           size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) {
  return run(Pass::kBackwardData, handle, alpha, dxDesc, wDesc, convDesc, dyDesc, algo, workSpace,
             workSpaceSizeInBytes, beta, Buffers{dx, w, dy, dx});
}

// ---- backward filter

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc,
    cudnnConvolutionBwdFilterAlgo_t algo, size_t* sizeInBytes) {
  return workspace_query(Pass::kBackwardFilter, handle, xDesc, gradDesc, convDesc, dyDesc, algo,
                         sizeInBytes);
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void* x,
    const cudnnTensorDescriptor_t dyDesc, const void* dy,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t dwDesc, void* dw,
    const int requestedAlgoCount, int* returnedAlgoCount,
    cudnnConvolutionBwdFilterAlgoPerf_t* perfResults, void* workSpace,
    size_t workSpaceSizeInBytes) {
  return find(Pass::kBackwardFilter, handle, xDesc, dwDesc, convDesc, dyDesc,
              Buffers{x, dw, dy, dw}, requestedAlgoCount, returnedAlgoCount, perfResults, workSpace,
              workSpaceSizeInBytes);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void* x,
                                             const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwDesc, void* dw) {
  return run(Pass::kBackwardFilter, handle, alpha, xDesc, dwDesc, convDesc, dyDesc, algo, workSpace,
             workSpaceSizeInBytes, beta, Buffers{x, dw, dy, dw});
}
