#include "kernels/cuda/cudnn.h"

#include <array>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "kernels/cuda/runtime/allocator.h"
#include "kernels/cuda/runtime/check.h"
#include "kernels/cuda/runtime/context.h"

namespace rtseg::cuda {

// ---- conv2d

namespace {

constexpr size_t kMaxConvWorkspace = size_t(256) << 20;

// The tensor, filter and convolution descriptors of one conv; destroyed with their plan.
struct ConvDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ConvDescriptors() = default;
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;
  ~ConvDescriptors() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
};

// What one pass of one conv shape runs with, found once.
struct ConvPlan {
  ConvDescriptors desc;
  int algo = 0;  // the pass's algorithm enum, as int
  size_t workspace = 0;
  std::string description;
};

int to_int(int64_t v, const char* op) {
  RTSEG_CHECK(v <= INT_MAX, "{}: size {} exceeds cuDNN's 32-bit descriptors", op, v);
  return static_cast<int>(v);
}

void make_descriptors(ConvDescriptors& d, const Conv2dGeometry& g, cudnnDataType_t dt,
                      const char* op) {
  check(cudnnCreateTensorDescriptor(&d.x), op);
  check(cudnnCreateTensorDescriptor(&d.y), op);
  check(cudnnCreateFilterDescriptor(&d.w), op);
  check(cudnnCreateConvolutionDescriptor(&d.conv), op);
  check(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, dt, to_int(g.n, op), to_int(g.c, op),
                                   to_int(g.h, op), to_int(g.w, op)),
        op);
  check(cudnnSetFilter4dDescriptor(d.w, dt, CUDNN_TENSOR_NCHW, to_int(g.k, op),
                                   to_int(g.c_per_group(), op), to_int(g.r, op), to_int(g.s, op)),
        op);
  check(cudnnSetConvolution2dDescriptor(d.conv, to_int(g.pad_h, op), to_int(g.pad_w, op),
                                        to_int(g.stride_h, op), to_int(g.stride_w, op),
                                        to_int(g.dil_h, op), to_int(g.dil_w, op),
                                        CUDNN_CROSS_CORRELATION, dt),
        op);
  check(cudnnSetConvolutionGroupCount(d.conv, to_int(g.groups, op)), op);
  int n = 0, k = 0, oh = 0, ow = 0;
  check(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &n, &k, &oh, &ow), op);
  RTSEG_CHECK(n == g.n && k == g.k && oh == g.oh && ow == g.ow,
              "{}: cuDNN computes output {}×{}×{}×{} but conv2d expects {}×{}×{}×{}", op, n, k, oh,
              ow, g.n, g.k, g.oh, g.ow);
  check(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, dt, n, k, oh, ow), op);
}

cudnnMathType_t requested_math(cudnnDataType_t dt, bool tf32) {
  if (dt == CUDNN_DATA_FLOAT && !tf32) return CUDNN_FMA_MATH;
  return CUDNN_DEFAULT_MATH;
}

// The math type a chosen algorithm runs with: the one it was measured with unless that breaks the
// policy in cudnn.h (then the requested one, under which Find measured it anyway).
cudnnMathType_t run_math(cudnnMathType_t returned, cudnnDataType_t dt, bool tf32) {
  const cudnnMathType_t requested = requested_math(dt, tf32);
  if (returned == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return requested;
  if (dt == CUDNN_DATA_FLOAT && !tf32 && returned != CUDNN_FMA_MATH) return requested;
  return returned;
}

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH:
      return "default";
    case CUDNN_TENSOR_OP_MATH:
      return "tensor-op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
      return "tensor-op+conversion";
    case CUDNN_FMA_MATH:
      return "FMA";
  }
  return "unknown";
}

// The three passes differ only in their cuDNN entry points and which buffers they read/write:
// `a` and `b` are the pass's two inputs, `out` its output.
struct ForwardPass {  // a = x, b = w, out = y
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  using Algo = cudnnConvolutionFwdAlgo_t;
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr int kId = 0;
  static constexpr const char* kName = "forward";
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, Algo algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, algo, bytes);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const ConvDescriptors& d, const void* a, const void* b,
                            void* out, int* count, Perf* perf, void* ws, size_t bytes) {
    return cudnnFindConvolutionForwardAlgorithmEx(h, d.x, a, d.w, b, d.conv, d.y, out, kAlgoCount,
                                                  count, perf, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors& d, Algo algo, const void* alpha,
                           const void* a, const void* b, void* ws, size_t bytes, const void* beta,
                           void* out) {
    return cudnnConvolutionForward(h, alpha, d.x, a, d.w, b, d.conv, algo, ws, bytes, beta, d.y,
                                   out);
  }
  static const char* algo_name(int a) {
    static const char* names[] = {
        "IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
        "WINOGRAD",      "WINOGRAD_NONFUSED"};
    return a >= 0 && a < kAlgoCount ? names[a] : "?";
  }
};

struct BackwardDataPass {  // a = w, b = dy, out = dx
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static constexpr int kId = 1;
  static constexpr const char* kName = "backward-data";
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, Algo algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, algo, bytes);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const ConvDescriptors& d, const void* a, const void* b,
                            void* out, int* count, Perf* perf, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, a, d.y, b, d.conv, d.x, out,
                                                       kAlgoCount, count, perf, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors& d, Algo algo, const void* alpha,
                           const void* a, const void* b, void* ws, size_t bytes, const void* beta,
                           void* out) {
    return cudnnConvolutionBackwardData(h, alpha, d.w, a, d.y, b, d.conv, algo, ws, bytes, beta,
                                        d.x, out);
  }
  static const char* algo_name(int a) {
    static const char* names[] = {"ALGO_0",     "ALGO_1",   "FFT",
                                  "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    return a >= 0 && a < kAlgoCount ? names[a] : "?";
  }
};

struct BackwardFilterPass {  // a = x, b = dy, out = dw
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static constexpr int kId = 2;
  static constexpr const char* kName = "backward-filter";
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, Algo algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, algo, bytes);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const ConvDescriptors& d, const void* a, const void* b,
                            void* out, int* count, Perf* perf, void* ws, size_t bytes) {
    return cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, a, d.y, b, d.conv, d.w, out,
                                                         kAlgoCount, count, perf, ws, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors& d, Algo algo, const void* alpha,
                           const void* a, const void* b, void* ws, size_t bytes, const void* beta,
                           void* out) {
    return cudnnConvolutionBackwardFilter(h, alpha, d.x, a, d.y, b, d.conv, algo, ws, bytes, beta,
                                          d.w, out);
  }
  static const char* algo_name(int a) {
    static const char* names[] = {
        "ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
    return a >= 0 && a < kAlgoCount ? names[a] : "?";
  }
};

// Cache key: every geometry field, the data type, the math setting, the device and the pass.
using ConvKey = std::array<int64_t, 18>;

ConvKey conv_key(const Conv2dGeometry& g, cudnnDataType_t dt, bool tf32, int device, int pass_id) {
  return {g.n,          g.c,     g.h,        g.w,        g.k,
          g.r,          g.s,     g.stride_h, g.stride_w, g.pad_h,
          g.pad_w,      g.dil_h, g.dil_w,    g.groups,   static_cast<int64_t>(dt),
          tf32 ? 1 : 0, device,  pass_id};
}

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

// Never destroyed (as the contexts): plans may be used until the process exits.
std::map<ConvKey, std::unique_ptr<ConvPlan>>& plan_cache() {
  static auto* cache = new std::map<ConvKey, std::unique_ptr<ConvPlan>>();
  return *cache;
}

// Builds the plan of one pass: descriptors, then a measured search over every algorithm whose
// workspace fits the cap. Find*Ex writes `out` (the caller overwrites it right after).
template <typename Pass>
std::unique_ptr<ConvPlan> find_plan(const Conv2dGeometry& g, cudnnDataType_t dt, bool tf32,
                                    cudnnHandle_t handle, int device, const void* a, const void* b,
                                    void* out, const char* op) {
  auto plan = std::make_unique<ConvPlan>();
  make_descriptors(plan->desc, g, dt, op);
  check(cudnnSetConvolutionMathType(plan->desc.conv, requested_math(dt, tf32)), op);

  size_t search_bytes = 0;
  for (int i = 0; i < Pass::kAlgoCount; ++i) {
    size_t bytes = 0;
    const cudnnStatus_t status =
        Pass::workspace(handle, plan->desc, static_cast<typename Pass::Algo>(i), &bytes);
    if (status == CUDNN_STATUS_SUCCESS && bytes <= kMaxConvWorkspace && bytes > search_bytes) {
      search_bytes = bytes;
    }
  }
  const DeviceBuffer search_ws(search_bytes, device);
  std::vector<typename Pass::Perf> perf(Pass::kAlgoCount);
  int count = 0;
  // Synchronises: cuDNN times each algorithm. Once per shape (warm-up), never per call.
  check(Pass::find(handle, plan->desc, a, b, out, &count, perf.data(), search_ws.data(),
                   search_bytes),
        op);

  const typename Pass::Perf* chosen = nullptr;
  for (int i = 0; i < count && !chosen; ++i) {  // results come fastest first
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= search_bytes &&
        perf[i].determinism == CUDNN_DETERMINISTIC) {
      chosen = &perf[i];
    }
  }
  for (int i = 0; i < count && !chosen; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= search_bytes) chosen = &perf[i];
  }
  RTSEG_CHECK(chosen != nullptr,
              "{}: cuDNN found no {} algorithm for N{} C{} {}×{} K{} kernel {}×{} groups {}", op,
              Pass::kName, g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.groups);
  const cudnnMathType_t math = run_math(chosen->mathType, dt, tf32);
  check(cudnnSetConvolutionMathType(plan->desc.conv, math), op);
  plan->algo = static_cast<int>(chosen->algo);
  plan->workspace = chosen->memory;
  plan->description =
      fmt::format("{} {} ({} math, {} B workspace{})", Pass::kName, Pass::algo_name(plan->algo),
                  math_name(math), plan->workspace,
                  chosen->determinism == CUDNN_DETERMINISTIC ? "" : ", nondeterministic");
  return plan;
}

template <typename T>
cudnnDataType_t data_type() {
  return std::is_same<T, double>::value ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
}

// Runs one pass: finds (or reuses) its plan, then out = pass(a, b).
template <typename Pass, typename T>
void run_pass(const char* op, const Conv2dGeometry& g, int device, const T* a, const T* b, T* out) {
  Context& ctx = context(device);
  DeviceGuard guard(device);
  cudnnHandle_t handle = ctx.cudnn();
  const cudnnDataType_t dt = data_type<T>();
  const bool tf32 = ctx.tf32();
  const ConvPlan* plan = nullptr;
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto& cache = plan_cache();
    const ConvKey key = conv_key(g, dt, tf32, device, Pass::kId);
    auto it = cache.find(key);
    if (it == cache.end()) {
      it = cache.emplace(key, find_plan<Pass>(g, dt, tf32, handle, device, a, b, out, op)).first;
    }
    plan = it->second.get();  // plans are never erased, so the pointer stays valid
  }
  const DeviceBuffer ws(plan->workspace, device);
  const T alpha = T(1), beta = T(0);
  check(Pass::run(handle, plan->desc, static_cast<typename Pass::Algo>(plan->algo), &alpha, a, b,
                  ws.data(), plan->workspace, &beta, out),
        op);
}

}  // namespace

template <typename T>
void cudnn_conv2d_forward(T* y, const T* x, const T* w, const Conv2dGeometry& g, int device) {
  run_pass<ForwardPass>("conv2d (cuDNN forward)", g, device, x, w, y);
}

template <typename T>
void cudnn_conv2d_backward_data(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                int device) {
  run_pass<BackwardDataPass>("conv2d backward (cuDNN data)", g, device, w, dy, dx);
}

template <typename T>
void cudnn_conv2d_backward_filter(T* dw, const T* dy, const T* x, const Conv2dGeometry& g,
                                  int device) {
  run_pass<BackwardFilterPass>("conv2d backward (cuDNN filter)", g, device, x, dy, dw);
}

std::string cudnn_conv2d_algorithms(const Conv2dGeometry& g, bool is_double, int device) {
  const cudnnDataType_t dt = is_double ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  const bool tf32 = context(device).tf32();
  std::string out;
  std::lock_guard<std::mutex> lock(cache_mutex());
  for (int pass : {ForwardPass::kId, BackwardDataPass::kId, BackwardFilterPass::kId}) {
    auto it = plan_cache().find(conv_key(g, dt, tf32, device, pass));
    if (it == plan_cache().end()) continue;
    if (!out.empty()) out += "; ";
    out += it->second->description;
  }
  return out;
}

#define RTSEG_INSTANTIATE_CUDNN_CONV(T)                                                            \
  template void cudnn_conv2d_forward<T>(T*, const T*, const T*, const Conv2dGeometry&, int);       \
  template void cudnn_conv2d_backward_data<T>(T*, const T*, const T*, const Conv2dGeometry&, int); \
  template void cudnn_conv2d_backward_filter<T>(T*, const T*, const T*, const Conv2dGeometry&, int);
RTSEG_INSTANTIATE_CUDNN_CONV(float)
RTSEG_INSTANTIATE_CUDNN_CONV(double)

}  // namespace rtseg::cuda
