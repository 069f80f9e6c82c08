// The emulated cuDNN through its API: descriptor checks, output and workspace sizes, Find*Ex, the
// three passes of every emulated algorithm against a naive reference (groups, stride, padding,
// dilation, both modes), alpha/beta, work deferred to the handle's stream, and the emulator's
// checks of buffers, streams and devices.
#include <cuda_runtime.h>
#include <cudnn.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

// A cudaMalloc'd array of exactly n elements (so that AddressSanitizer sees any overrun).
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) { REQUIRE(cudaMalloc(&p_, n * sizeof(T)) == cudaSuccess); }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return p_; }
  size_t bytes() const { return n_ * sizeof(T); }
  void upload(const std::vector<T>& host) {
    REQUIRE(cudaMemcpy(p_, host.data(), bytes(), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<T> download() const {  // synchronises, as cudaMemcpy does
    std::vector<T> host(n_);
    REQUIRE(cudaMemcpy(host.data(), p_, bytes(), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }
  // The device memory as it is now, without synchronising (emulated device memory is host memory).
  std::vector<T> peek() const { return std::vector<T>(p_, p_ + n_); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

struct Geometry {
  int n, c, h, w, k, r, s, groups, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  int oh() const { return (h + 2 * pad_h - dil_h * (r - 1) - 1) / stride_h + 1; }
  int ow() const { return (w + 2 * pad_w - dil_w * (s - 1) - 1) / stride_w + 1; }
  int c_per_group() const { return c / groups; }
  size_t x_size() const { return size_t(n) * c * h * w; }
  size_t w_size() const { return size_t(k) * c_per_group() * r * s; }
  size_t y_size() const { return size_t(n) * k * oh() * ow(); }
};

// Odd sizes; groups 1, 2, 4 and depthwise; strides 1 to 3; dilation 2; asymmetric padding.
const Geometry kGeometries[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},   {1, 4, 9, 8, 6, 3, 2, 2, 1, 0, 2, 2, 1, 1},
    {2, 8, 11, 10, 8, 3, 3, 4, 2, 2, 1, 2, 2, 2}, {1, 4, 5, 6, 4, 1, 1, 4, 0, 0, 2, 2, 1, 1},
    {3, 2, 6, 5, 3, 5, 4, 1, 2, 3, 3, 1, 1, 2},
};

class Handle {
 public:
  Handle() { REQUIRE(cudnnCreate(&h_) == CUDNN_STATUS_SUCCESS); }
  ~Handle() { cudnnDestroy(h_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator cudnnHandle_t() const { return h_; }

 private:
  cudnnHandle_t h_ = nullptr;
};

// The four descriptors of one convolution, set from a geometry.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  Descriptors(const Geometry& g, cudnnDataType_t type,
              cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION) {
    REQUIRE(cudnnCreateTensorDescriptor(&x) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateTensorDescriptor(&y) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateFilterDescriptor(&w) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnCreateConvolutionDescriptor(&conv) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, g.n, g.c, g.h, g.w) ==
            CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, g.k, g.c_per_group(), g.r,
                                       g.s) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetConvolution2dDescriptor(conv, g.pad_h, g.pad_w, g.stride_h, g.stride_w, g.dil_h,
                                            g.dil_w, mode, type) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetConvolutionGroupCount(conv, g.groups) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, g.n, g.k, g.oh(), g.ow()) ==
            CUDNN_STATUS_SUCCESS);
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

template <typename T>
std::vector<T> random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& e : v) e = static_cast<T>(dist(rng));
  return v;
}

// All three passes by their definition, one product at a time, in double: y = conv(x, w),
// dx = ∂⟨dy, y⟩/∂x, dw = ∂⟨dy, y⟩/∂w.
struct Reference {
  std::vector<double> y, dx, dw;
};

template <typename T>
Reference reference(const Geometry& g, bool flip, const std::vector<T>& x, const std::vector<T>& w,
                    const std::vector<T>& dy) {
  Reference ref{std::vector<double>(g.y_size()), std::vector<double>(g.x_size()),
                std::vector<double>(g.w_size())};
  const int cpg = g.c_per_group(), kpg = g.k / g.groups;
  for (int n = 0; n < g.n; ++n)
    for (int k = 0; k < g.k; ++k)
      for (int oy = 0; oy < g.oh(); ++oy)
        for (int ox = 0; ox < g.ow(); ++ox)
          for (int c = 0; c < cpg; ++c)
            for (int i = 0; i < g.r; ++i)
              for (int j = 0; j < g.s; ++j) {
                const int iy = oy * g.stride_h - g.pad_h + i * g.dil_h;
                const int ix = ox * g.stride_w - g.pad_w + j * g.dil_w;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const size_t xi = ((size_t(n) * g.c + (k / kpg) * cpg + c) * g.h + iy) * g.w + ix;
                const int wr = flip ? g.r - 1 - i : i, ws = flip ? g.s - 1 - j : j;
                const size_t wi = ((size_t(k) * cpg + c) * g.r + wr) * g.s + ws;
                const size_t yi = ((size_t(n) * g.k + k) * g.oh() + oy) * g.ow() + ox;
                ref.y[yi] += double(x[xi]) * w[wi];
                ref.dx[xi] += double(dy[yi]) * w[wi];
                ref.dw[wi] += double(dy[yi]) * x[xi];
              }
  return ref;
}

// |got − want| ≤ tol·(1 + |want|) everywhere, with want = alpha·ref + beta·old.
template <typename T>
bool close(const std::vector<T>& got, const std::vector<double>& ref, double alpha = 1,
           double beta = 0, const std::vector<T>& old = {}) {
  const double tol = sizeof(T) == sizeof(float) ? 1e-5 : 1e-12;
  for (size_t i = 0; i < got.size(); ++i) {
    const double want = alpha * ref[i] + (beta != 0 ? beta * old[i] : 0.0);
    if (!(std::fabs(got[i] - want) <= tol * (1 + std::fabs(want)))) return false;
  }
  return got.size() == ref.size();
}

template <typename T>
cudnnDataType_t data_type() {
  return sizeof(T) == sizeof(double) ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
}

// Every buffer of one convolution on the current device, with random inputs.
template <typename T>
struct Problem {
  Geometry g;
  std::vector<T> hx, hw, hdy;
  DeviceArray<T> x, w, y, dx, dw, dy;
  explicit Problem(const Geometry& geometry, unsigned seed = 1)
      : g(geometry),
        hx(random_values<T>(g.x_size(), seed)),
        hw(random_values<T>(g.w_size(), seed + 1)),
        hdy(random_values<T>(g.y_size(), seed + 2)),
        x(hx),
        w(hw),
        y(g.y_size()),
        dx(g.x_size()),
        dw(g.w_size()),
        dy(hdy) {}
};

template <typename T>
void check_every_algorithm(const Geometry& g, cudnnConvolutionMode_t mode) {
  Handle h;
  Descriptors d(g, data_type<T>(), mode);
  Problem<T> p(g);
  const Reference ref = reference(g, mode == CUDNN_CONVOLUTION, p.hx, p.hw, p.hdy);
  const T one = 1, zero = 0;
  for (int algo : {0, 1, 2}) {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                    cudnnConvolutionFwdAlgo_t(algo),
                                                    &bytes) == CUDNN_STATUS_SUCCESS);
    DeviceArray<unsigned char> ws(bytes);  // exactly the need (none: a null pointer)
    INFO("forward algorithm " << algo);
    REQUIRE(cudnnConvolutionForward(h, &one, d.x, p.x.get(), d.w, p.w.get(), d.conv,
                                    cudnnConvolutionFwdAlgo_t(algo), ws.get(), bytes, &zero, d.y,
                                    p.y.get()) == CUDNN_STATUS_SUCCESS);
    REQUIRE(close(p.y.download(), ref.y));
  }
  for (int algo : {0, 1}) {
    size_t bytes = 0;
    REQUIRE(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x,
                                                         cudnnConvolutionBwdDataAlgo_t(algo),
                                                         &bytes) == CUDNN_STATUS_SUCCESS);
    DeviceArray<unsigned char> ws(bytes);
    INFO("backward-data algorithm " << algo);
    REQUIRE(cudnnConvolutionBackwardData(h, &one, d.w, p.w.get(), d.y, p.dy.get(), d.conv,
                                         cudnnConvolutionBwdDataAlgo_t(algo), ws.get(), bytes,
                                         &zero, d.x, p.dx.get()) == CUDNN_STATUS_SUCCESS);
    REQUIRE(close(p.dx.download(), ref.dx));
    REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w,
                                                           cudnnConvolutionBwdFilterAlgo_t(algo),
                                                           &bytes) == CUDNN_STATUS_SUCCESS);
    DeviceArray<unsigned char> ws_filter(bytes);
    INFO("backward-filter algorithm " << algo);
    REQUIRE(cudnnConvolutionBackwardFilter(h, &one, d.x, p.x.get(), d.y, p.dy.get(), d.conv,
                                           cudnnConvolutionBwdFilterAlgo_t(algo), ws_filter.get(),
                                           bytes, &zero, d.w, p.dw.get()) == CUDNN_STATUS_SUCCESS);
    REQUIRE(close(p.dw.download(), ref.dw));
  }
}

const Geometry kSmall = {2, 4, 6, 7, 6, 3, 3, 2, 1, 1, 2, 1, 1, 2};  // output 3 × 5

}  // namespace

TEST_CASE("cuDNN descriptors refuse what cuDNN documents as bad or unsupported", "[emu]") {
  cudnnTensorDescriptor_t t = nullptr;
  cudnnFilterDescriptor_t f = nullptr;
  cudnnConvolutionDescriptor_t c = nullptr;
  REQUIRE(cudnnCreateTensorDescriptor(nullptr) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnCreateTensorDescriptor(&t) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnCreateFilterDescriptor(&f) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnCreateConvolutionDescriptor(&c) == CUDNN_STATUS_SUCCESS);
  const auto nchw = CUDNN_TENSOR_NCHW;
  const auto fp32 = CUDNN_DATA_FLOAT;

  REQUIRE(cudnnSetTensor4dDescriptor(nullptr, nchw, fp32, 1, 1, 1, 1) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, fp32, 0, 1, 1, 1) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, fp32, 1, -1, 1, 1) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetTensor4dDescriptor(t, cudnnTensorFormat_t(3), fp32, 1, 1, 1, 1) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, cudnnDataType_t(22), 1, 1, 1, 1) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, fp32, 1, 1, 1, 1) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, CUDNN_DATA_HALF, 1, 1, 1, 1) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, fp32, 1 << 16, 1 << 8, 1 << 4, 1 << 3) ==
          CUDNN_STATUS_NOT_SUPPORTED);  // 2^31 elements
  REQUIRE(cudnnSetTensor4dDescriptor(t, nchw, CUDNN_DATA_DOUBLE, 1, 2, 3, 4) ==
          CUDNN_STATUS_SUCCESS);

  REQUIRE(cudnnSetFilter4dDescriptor(f, fp32, nchw, 1, 1, 0, 1) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetFilter4dDescriptor(f, cudnnDataType_t(-1), nchw, 1, 1, 1, 1) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetFilter4dDescriptor(f, fp32, CUDNN_TENSOR_NCHW_VECT_C, 1, 1, 1, 1) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(cudnnSetFilter4dDescriptor(f, CUDNN_DATA_INT8, nchw, 1, 1, 1, 1) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(cudnnSetFilter4dDescriptor(f, fp32, nchw, 4, 2, 3, 3) == CUDNN_STATUS_SUCCESS);

  const auto xcorr = CUDNN_CROSS_CORRELATION;
  REQUIRE(cudnnSetConvolution2dDescriptor(c, -1, 0, 1, 1, 1, 1, xcorr, fp32) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 0, 1, 1, xcorr, fp32) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 1, 0, 1, xcorr, fp32) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 1, 1, 1, cudnnConvolutionMode_t(2), fp32) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 1, 1, 1, xcorr, CUDNN_DATA_BFLOAT16) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(cudnnSetConvolution2dDescriptor(nullptr, 0, 0, 1, 1, 1, 1, xcorr, fp32) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolution2dDescriptor(c, 0, 2, 1, 3, 2, 1, xcorr, fp32) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetConvolutionGroupCount(c, 0) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolutionGroupCount(c, 2) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetConvolutionMathType(c, cudnnMathType_t(4)) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetConvolutionMathType(c, CUDNN_FMA_MATH) == CUDNN_STATUS_SUCCESS);

  REQUIRE(cudnnDestroyConvolutionDescriptor(c) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnDestroyConvolutionDescriptor(c) == CUDNN_STATUS_BAD_PARAM);  // already destroyed
  REQUIRE(cudnnSetConvolutionGroupCount(c, 1) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnDestroyFilterDescriptor(f) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnDestroyTensorDescriptor(t) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnDestroyTensorDescriptor(nullptr) == CUDNN_STATUS_SUCCESS);
}

TEST_CASE("cuDNN's output size is floor((in + 2p - d(k-1) - 1) / s) + 1", "[emu]") {
  const auto dims = [](int h, int r, int pad, int stride, int dil, int groups, int c_per_group,
                       int out[4]) {
    cudnnTensorDescriptor_t x = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    cudnnCreateTensorDescriptor(&x);
    cudnnCreateFilterDescriptor(&w);
    cudnnCreateConvolutionDescriptor(&conv);
    cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 3, 4, h, h + 1);
    cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 8, c_per_group, r, r);
    cudnnSetConvolution2dDescriptor(conv, pad, pad, stride, stride, dil, dil,
                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
    cudnnSetConvolutionGroupCount(conv, groups);
    const cudnnStatus_t s =
        cudnnGetConvolution2dForwardOutputDim(conv, x, w, &out[0], &out[1], &out[2], &out[3]);
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(x);
    return s;
  };
  int out[4] = {};
  REQUIRE(dims(7, 3, 1, 1, 1, 1, 4, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE((out[0] == 3 && out[1] == 8 && out[2] == 7 && out[3] == 8));
  REQUIRE(dims(9, 3, 1, 2, 1, 2, 2, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE((out[2] == 5 && out[3] == 5));  // (9 + 2 - 2 - 1) / 2 + 1, (10 + 2 - 2 - 1) / 2 + 1
  REQUIRE(dims(11, 3, 2, 2, 2, 4, 1, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE((out[2] == 6 && out[3] == 6));  // (11 + 4 - 4 - 1) / 2 + 1, (12 + 4 - 4 - 1) / 2 + 1
  REQUIRE(dims(5, 5, 0, 1, 1, 1, 4, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE(out[2] == 1);  // the filter just fits
  REQUIRE(dims(4, 5, 1, 1, 1, 1, 4, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE(out[2] == 2);  // fits thanks to the padding
  REQUIRE(dims(7, 3, 0, 1, 3, 1, 4, out) == CUDNN_STATUS_SUCCESS);
  REQUIRE(out[2] == 1);  // the dilated span, 7, just fits
  // Refused: a filter larger than the input, a dilated span of 9 over 7 rows, 4 input channels
  // that are not 3 per group × 1 group, nor 4 per group × 2 groups.
  REQUIRE(dims(3, 5, 0, 1, 1, 1, 4, out) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(dims(7, 3, 0, 1, 4, 1, 4, out) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(dims(7, 3, 1, 1, 1, 1, 3, out) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(dims(7, 3, 1, 1, 1, 2, 4, out) == CUDNN_STATUS_BAD_PARAM);
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  REQUIRE(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &out[0], &out[1], &out[2],
                                                nullptr) == CUDNN_STATUS_BAD_PARAM);
  cudnnTensorDescriptor_t unset = nullptr;
  REQUIRE(cudnnCreateTensorDescriptor(&unset) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetConvolution2dForwardOutputDim(d.conv, unset, d.w, &out[0], &out[1], &out[2],
                                                &out[3]) == CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyTensorDescriptor(unset);
}

TEST_CASE("cuDNN workspace sizes: three forward and two backward algorithms per pass", "[emu]") {
  Handle h;
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  size_t bytes = 1;
  const auto fwd = [&](int algo) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                   cudnnConvolutionFwdAlgo_t(algo), &bytes);
  };
  REQUIRE(fwd(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 0);
  REQUIRE(fwd(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == (3 * 3 + 5 * 3) * sizeof(int32_t));  // row and column tables
  REQUIRE(fwd(CUDNN_CONVOLUTION_FWD_ALGO_GEMM) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 2 * 3 * 3 * 3 * 5 * sizeof(float));  // im2col of one group of one image
  for (int algo = CUDNN_CONVOLUTION_FWD_ALGO_DIRECT; algo < CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
       ++algo) {
    REQUIRE(fwd(algo) == CUDNN_STATUS_NOT_SUPPORTED);
  }
  REQUIRE(fwd(CUDNN_CONVOLUTION_FWD_ALGO_COUNT) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(-1) == CUDNN_STATUS_BAD_PARAM);

  const auto data = [&](int algo) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(
        h, d.w, d.y, d.conv, d.x, cudnnConvolutionBwdDataAlgo_t(algo), &bytes);
  };
  REQUIRE(data(CUDNN_CONVOLUTION_BWD_DATA_ALGO_0) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 0);
  REQUIRE(data(CUDNN_CONVOLUTION_BWD_DATA_ALGO_1) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == (6 * 3 + 7 * 3) * sizeof(int32_t));  // inverse tables over the input
  REQUIRE(data(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT) == CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(data(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT) == CUDNN_STATUS_BAD_PARAM);

  const auto filter = [&](int algo) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, d.x, d.y, d.conv, d.w, cudnnConvolutionBwdFilterAlgo_t(algo), &bytes);
  };
  REQUIRE(filter(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 0);
  REQUIRE(filter(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 2 * 3 * 3 * 3 * 5 * sizeof(float));
  REQUIRE(filter(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3) == CUDNN_STATUS_NOT_SUPPORTED);

  Descriptors dd(kSmall, CUDNN_DATA_DOUBLE);
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, dd.x, dd.w, dd.conv, dd.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  &bytes) == CUDNN_STATUS_SUCCESS);
  REQUIRE(bytes == 2 * 3 * 3 * 3 * 5 * sizeof(double));
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  nullptr) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(nullptr, d.x, d.w, d.conv, d.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  &bytes) == CUDNN_STATUS_BAD_PARAM);
}

TEST_CASE("cuDNN convolutions check that x, w, conv and y agree", "[emu]") {
  Handle h;
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  size_t bytes = 0;
  const auto query = [&](cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                         cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y) {
    return cudnnGetConvolutionForwardWorkspaceSize(
        h, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &bytes);
  };
  REQUIRE(query(d.x, d.w, d.conv, d.y) == CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t other = nullptr;
  REQUIRE(cudnnCreateTensorDescriptor(&other) == CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // never set
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 6, 3, 4) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // y is 3 × 5, not 3 × 4
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 6, 3, 5) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // y's batch is 2
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 4, 3, 5) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // y's channels are w's k
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_DOUBLE, 2, 6, 3, 5) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // one data type
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 6, 6, 7) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(other, d.w, d.conv, d.y) == CUDNN_STATUS_BAD_PARAM);  // 6 channels ≠ 2 × 2
  cudnnFilterDescriptor_t w5 = nullptr;
  REQUIRE(cudnnCreateFilterDescriptor(&w5) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetFilter4dDescriptor(w5, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 5, 2, 3, 3) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetTensor4dDescriptor(other, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 5, 3, 5) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, w5, d.conv, other) == CUDNN_STATUS_BAD_PARAM);  // 5 outputs, 2 groups
  REQUIRE(cudnnSetConvolution2dDescriptor(d.conv, 1, 1, 2, 1, 1, 2, CUDNN_CROSS_CORRELATION,
                                          CUDNN_DATA_DOUBLE) == CUDNN_STATUS_SUCCESS);
  REQUIRE(query(d.x, d.w, d.conv, d.y) == CUDNN_STATUS_NOT_SUPPORTED);  // float data, double math
  cudnnDestroyFilterDescriptor(w5);
  cudnnDestroyTensorDescriptor(other);
}

TEST_CASE("every emulated cuDNN algorithm matches the definition of its pass", "[emu]") {
  for (const Geometry& g : kGeometries) {
    for (cudnnConvolutionMode_t mode : {CUDNN_CROSS_CORRELATION, CUDNN_CONVOLUTION}) {
      INFO("geometry n" << g.n << " c" << g.c << " " << g.h << "x" << g.w << " k" << g.k << " "
                        << g.r << "x" << g.s << " groups " << g.groups << " mode " << mode);
      check_every_algorithm<float>(g, mode);
      check_every_algorithm<double>(g, mode);
    }
  }
}

TEST_CASE("cuDNN blends out = alpha * result + beta * out, not reading out when beta is 0",
          "[emu]") {
  Handle h;
  Descriptors d(kGeometries[2], CUDNN_DATA_DOUBLE);
  Problem<double> p(kGeometries[2], 7);
  const Reference ref = reference(p.g, false, p.hx, p.hw, p.hdy);
  const std::vector<double> old_y = random_values<double>(p.g.y_size(), 11);
  const std::vector<double> old_dx = random_values<double>(p.g.x_size(), 12);
  const std::vector<double> old_dw = random_values<double>(p.g.w_size(), 13);
  p.y.upload(old_y);
  p.dx.upload(old_dx);
  p.dw.upload(old_dw);
  const double alpha = 2, beta = 0.5, zero = 0;
  REQUIRE(cudnnConvolutionForward(h, &alpha, d.x, p.x.get(), d.w, p.w.get(), d.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &beta, d.y,
                                  p.y.get()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p.y.download(), ref.y, alpha, beta, old_y));
  REQUIRE(cudnnConvolutionBackwardData(h, &alpha, d.w, p.w.get(), d.y, p.dy.get(), d.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &beta, d.x,
                                       p.dx.get()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p.dx.download(), ref.dx, alpha, beta, old_dx));
  REQUIRE(cudnnConvolutionBackwardFilter(h, &alpha, d.x, p.x.get(), d.y, p.dy.get(), d.conv,
                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, nullptr, 0, &beta,
                                         d.w, p.dw.get()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p.dw.download(), ref.dw, alpha, beta, old_dw));

  REQUIRE(cudaMemset(p.y.get(), 0xFF, p.y.bytes()) == cudaSuccess);  // NaN
  REQUIRE(cudnnConvolutionForward(h, &alpha, d.x, p.x.get(), d.w, p.w.get(), d.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero, d.y,
                                  p.y.get()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p.y.download(), ref.y, alpha));
}

TEST_CASE("cuDNN work is queued on the handle's stream and runs when it is synchronised", "[emu]") {
  Handle h;
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreate(&stream) == cudaSuccess);
  REQUIRE(cudnnSetStream(h, stream) == CUDNN_STATUS_SUCCESS);
  cudaStream_t got = nullptr;
  REQUIRE(cudnnGetStream(h, &got) == CUDNN_STATUS_SUCCESS);
  REQUIRE(got == stream);
  const Geometry& g = kGeometries[1];
  auto d = std::make_unique<Descriptors>(g, CUDNN_DATA_FLOAT);
  Problem<float> p(g, 3);
  const Reference ref = reference(g, false, p.hx, p.hw, p.hdy);
  REQUIRE(cudaMemset(p.y.get(), 0, p.y.bytes()) == cudaSuccess);
  float alpha = 1, beta = 0;
  size_t bytes = 0;
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d->x, d->w, d->conv, d->y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  &bytes) == CUDNN_STATUS_SUCCESS);
  DeviceArray<unsigned char> ws(bytes);
  REQUIRE(cudnnConvolutionForward(h, &alpha, d->x, p.x.get(), d->w, p.w.get(), d->conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws.get(), bytes, &beta, d->y,
                                  p.y.get()) == CUDNN_STATUS_SUCCESS);
  // What the call captured by value may change now: the scalars and the descriptors.
  alpha = 5;
  beta = 1;
  d.reset();
  for (float v : p.y.peek()) REQUIRE(v == 0);  // not computed yet
  REQUIRE(cudaStreamQuery(stream) == cudaErrorNotReady);
  REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
  REQUIRE(close(p.y.peek(), ref.y));

  // Without cudnnSetStream the work goes to the legacy stream.
  Handle legacy;
  Descriptors d2(g, CUDNN_DATA_FLOAT);
  REQUIRE(cudaMemset(p.dx.get(), 0, p.dx.bytes()) == cudaSuccess);
  REQUIRE(cudnnConvolutionBackwardData(legacy, &alpha, d2.w, p.w.get(), d2.y, p.dy.get(), d2.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &beta, d2.x,
                                       p.dx.get()) == CUDNN_STATUS_SUCCESS);
  for (float v : p.dx.peek()) REQUIRE(v == 0);
  REQUIRE(cudaStreamSynchronize(nullptr) == cudaSuccess);
  REQUIRE(close(p.dx.peek(), ref.dx, 5.0));  // beta 1 on zeros
  REQUIRE(cudaStreamDestroy(stream) == cudaSuccess);
}

TEST_CASE("cuDNN Find*Ex runs what fits, fastest first, synchronously, and leaves NaN behind",
          "[emu]") {
  Handle h;
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreate(&stream) == cudaSuccess);
  REQUIRE(cudnnSetStream(h, stream) == CUDNN_STATUS_SUCCESS);
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  REQUIRE(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH) == CUDNN_STATUS_SUCCESS);
  Problem<float> p(kSmall);
  size_t precomp = 0, gemm = 0;
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                  &precomp) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  &gemm) == CUDNN_STATUS_SUCCESS);
  DeviceArray<unsigned char> ws(gemm);
  DeviceArray<float> earlier(1);  // fresh: NaN
  REQUIRE(cudaMemsetAsync(earlier.get(), 0, sizeof(float), stream) == cudaSuccess);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  int count = 0;
  const auto find = [&](int requested, int* returned, size_t ws_bytes) {
    return cudnnFindConvolutionForwardAlgorithmEx(h, d.x, p.x.get(), d.w, p.w.get(), d.conv, d.y,
                                                  p.y.get(), requested, returned, perf.data(),
                                                  ws.get(), ws_bytes);
  };
  REQUIRE(find(CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, gemm) == CUDNN_STATUS_SUCCESS);
  REQUIRE(count == CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  REQUIRE(cudaStreamQuery(stream) == cudaSuccess);  // nothing left queued
  REQUIRE(earlier.peek()[0] == 0);                  // earlier work ran first
  for (float v : p.y.peek()) REQUIRE(std::isnan(v));
  REQUIRE(perf[0].algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM);
  REQUIRE(perf[1].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  REQUIRE(perf[2].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  REQUIRE((perf[0].memory == gemm && perf[1].memory == precomp && perf[2].memory == 0));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(perf[i].status == CUDNN_STATUS_SUCCESS);
    REQUIRE(perf[i].time > (i == 0 ? 0.0f : perf[i - 1].time));
    REQUIRE(perf[i].determinism == CUDNN_DETERMINISTIC);
    REQUIRE(perf[i].mathType == CUDNN_FMA_MATH);
  }
  for (int i = 3; i < count; ++i) {
    REQUIRE(perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT + (i - 3));
    REQUIRE(perf[i].status == CUDNN_STATUS_NOT_SUPPORTED);
  }
  // What the caller then runs computes the result again.
  const float one = 1, zero = 0;
  REQUIRE(cudnnConvolutionForward(h, &one, d.x, p.x.get(), d.w, p.w.get(), d.conv, perf[0].algo,
                                  ws.get(), perf[0].memory, &zero, d.y,
                                  p.y.get()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p.y.download(), reference(kSmall, false, p.hx, p.hw, p.hdy).y));

  // A workspace too small for GEMM: reported with cuDNN's status for that, not run.
  REQUIRE(find(CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, precomp) == CUDNN_STATUS_SUCCESS);
  REQUIRE((perf[0].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM &&
           perf[1].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM));
  REQUIRE(perf[2].algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM);
  REQUIRE(perf[2].status == CUDNN_STATUS_ALLOC_FAILED);
  REQUIRE(perf[2].memory == gemm);
  REQUIRE(find(1, &count, gemm) == CUDNN_STATUS_SUCCESS);
  REQUIRE(count == 1);
  REQUIRE(find(0, &count, gemm) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(find(1, nullptr, gemm) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, p.x.get(), d.w, p.w.get(), d.conv, d.y,
                                                 p.y.get(), 1, &count, nullptr, ws.get(),
                                                 gemm) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(find(1, &count, gemm + 1) == CUDNN_STATUS_BAD_PARAM);  // more than the allocation

  // The backward passes: ALGO_1 ranks first; cuDNN labels ALGO_0 non-deterministic.
  Descriptors dd(kSmall, CUDNN_DATA_DOUBLE);
  REQUIRE(cudnnSetConvolutionMathType(dd.conv, CUDNN_TENSOR_OP_MATH) == CUDNN_STATUS_SUCCESS);
  Problem<double> q(kSmall);
  DeviceArray<unsigned char> big(4096);
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  REQUIRE(cudnnFindConvolutionBackwardDataAlgorithmEx(
              h, dd.w, q.w.get(), dd.y, q.dy.get(), dd.conv, dd.x, q.dx.get(),
              CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, data.data(), big.get(),
              big.bytes()) == CUDNN_STATUS_SUCCESS);
  REQUIRE(count == CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  REQUIRE((data[0].algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 &&
           data[0].determinism == CUDNN_DETERMINISTIC));
  REQUIRE((data[1].algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 &&
           data[1].determinism == CUDNN_NON_DETERMINISTIC));
  REQUIRE(data[0].mathType == CUDNN_DEFAULT_MATH);  // double has no tensor-op math
  REQUIRE(data[2].status == CUDNN_STATUS_NOT_SUPPORTED);
  for (double v : q.dx.peek()) REQUIRE(std::isnan(v));
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
  REQUIRE(cudnnFindConvolutionBackwardFilterAlgorithmEx(
              h, d.x, p.x.get(), d.y, p.dy.get(), d.conv, d.w, p.dw.get(),
              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, filter.data(), big.get(),
              big.bytes()) == CUDNN_STATUS_SUCCESS);
  REQUIRE((filter[0].algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 &&
           filter[0].status == CUDNN_STATUS_SUCCESS && filter[0].mathType == CUDNN_FMA_MATH));
  REQUIRE((filter[1].algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 &&
           filter[1].determinism == CUDNN_NON_DETERMINISTIC));
  for (float v : p.dw.peek()) REQUIRE(std::isnan(v));
  REQUIRE(cudaStreamDestroy(stream) == cudaSuccess);
}

TEST_CASE("cuDNN compute calls refuse bad pointers, workspaces and algorithms", "[emu]") {
  Handle h;
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  Problem<float> p(kSmall);
  const float one = 1, zero = 0;
  size_t need = 0;
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                                  &need) == CUDNN_STATUS_SUCCESS);
  DeviceArray<unsigned char> ws(need);
  const auto fwd = [&](cudnnHandle_t handle, const void* x, const void* w, void* y, int algo,
                       void* work, size_t work_bytes, const void* alpha = nullptr,
                       const void* beta = nullptr) {
    return cudnnConvolutionForward(handle, alpha ? alpha : &one, d.x, x, d.w, w, d.conv,
                                   cudnnConvolutionFwdAlgo_t(algo), work, work_bytes,
                                   beta ? beta : &zero, d.y, y);
  };
  const int gemm = CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
  float* x = p.x.get();
  float* w = p.w.get();
  float* y = p.y.get();
  REQUIRE(fwd(h, x, w, y, gemm, ws.get(), need) == CUDNN_STATUS_SUCCESS);
  REQUIRE(fwd(nullptr, x, w, y, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnConvolutionForward(h, nullptr, d.x, x, d.w, w, d.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws.get(), need, &zero, d.y,
                                  y) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnConvolutionForward(h, &one, d.x, x, d.w, w, d.conv, CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
                                  ws.get(), need, nullptr, d.y, y) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, nullptr, w, y, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, nullptr, y, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, w, nullptr, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, w, y, CUDNN_CONVOLUTION_FWD_ALGO_FFT, ws.get(), need) ==
          CUDNN_STATUS_NOT_SUPPORTED);
  REQUIRE(fwd(h, x, w, y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, ws.get(), need) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, w, y, gemm, ws.get(), need - 1) == CUDNN_STATUS_BAD_PARAM);  // too small
  REQUIRE(fwd(h, x, w, y, gemm, nullptr, need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, w, y, gemm, ws.get(), need + 1) == CUDNN_STATUS_BAD_PARAM);  // overstated
  std::vector<float> host_x = p.hx;
  REQUIRE(fwd(h, host_x.data(), w, y, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  DeviceArray<float> short_y(kSmall.y_size() - 1);
  REQUIRE(fwd(h, x, w, short_y.get(), gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, x, w, y + 1, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);  // runs past
  REQUIRE(fwd(h, reinterpret_cast<char*>(x) + 2, w, y, gemm, ws.get(), need) ==
          CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER);
  // Outputs may not overlap inputs, nor the workspace any buffer; adjacent is fine.
  DeviceArray<float> shared(kSmall.x_size() + kSmall.y_size() + need / sizeof(float));
  float* const base = shared.get();
  REQUIRE(cudaMemcpy(base, p.hx.data(), p.x.bytes(), cudaMemcpyHostToDevice) == cudaSuccess);
  float* const after_x = base + kSmall.x_size();
  REQUIRE(fwd(h, base, w, after_x - 1, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, base, w, after_x, gemm, after_x + kSmall.y_size() - 1, need) ==
          CUDNN_STATUS_BAD_PARAM);
  REQUIRE(fwd(h, base, w, after_x, gemm, after_x + kSmall.y_size(), need) == CUDNN_STATUS_SUCCESS);
  const std::vector<float> all = shared.download();
  REQUIRE(close(std::vector<float>(all.begin() + kSmall.x_size(),
                                   all.begin() + kSmall.x_size() + kSmall.y_size()),
                reference(kSmall, false, p.hx, p.hw, p.hdy).y));
  cudnnHandle_t gone = nullptr;
  REQUIRE(cudnnCreate(&gone) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnDestroy(gone) == CUDNN_STATUS_SUCCESS);
  REQUIRE(fwd(gone, x, w, y, gemm, ws.get(), need) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnDestroy(gone) == CUDNN_STATUS_BAD_PARAM);

  // The backward passes check their workspace too.
  size_t data_need = 0, filter_need = 0;
  REQUIRE(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x,
                                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                       &data_need) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnConvolutionBackwardData(h, &one, d.w, w, d.y, p.dy.get(), d.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, ws.get(), data_need - 4,
                                       &zero, d.x, p.dx.get()) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnConvolutionBackwardData(h, &one, d.w, w, d.y, p.dy.get(), d.conv,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nullptr, 0, &zero, d.x,
                                       x) == CUDNN_STATUS_SUCCESS);  // dx may be any x-sized buffer
  REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w,
                                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                                         &filter_need) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnConvolutionBackwardFilter(
              h, &one, d.x, x, d.y, p.dy.get(), d.conv, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
              ws.get(), filter_need - 4, &zero, d.w, p.dw.get()) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnConvolutionBackwardFilter(h, &one, d.x, x, d.y, p.dy.get(), d.conv,
                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, nullptr, 0, &zero,
                                         d.w, p.dy.get()) == CUDNN_STATUS_BAD_PARAM);  // dw = dy
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
}

TEST_CASE("a cuDNN handle runs on its device, with a stream of that device", "[emu]") {
  int devices = 0;
  REQUIRE(cudaGetDeviceCount(&devices) == cudaSuccess);
  REQUIRE(devices >= 2);  // the emulator's tests run with RTSEG_EMU_DEVICES=2
  Handle h0;              // on device 0
  Descriptors d(kSmall, CUDNN_DATA_FLOAT);
  Problem<float> p0(kSmall);
  const float one = 1, zero = 0;
  const auto fwd = [&](cudnnHandle_t h, Problem<float>& p) {
    return cudnnConvolutionForward(h, &one, d.x, p.x.get(), d.w, p.w.get(), d.conv,
                                   CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero, d.y,
                                   p.y.get());
  };
  REQUIRE(cudnnSetStream(h0, reinterpret_cast<cudaStream_t>(&devices)) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  {
    Problem<float> p1(kSmall, 5);
    cudaStream_t s1 = nullptr;
    REQUIRE(cudaStreamCreate(&s1) == cudaSuccess);
    REQUIRE(cudnnSetStream(h0, s1) == CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH);
    REQUIRE(fwd(h0, p0) == CUDNN_STATUS_EXECUTION_FAILED);  // device 1 is current
    Handle h1;
    REQUIRE(cudnnSetStream(h1, s1) == CUDNN_STATUS_SUCCESS);
    REQUIRE(fwd(h1, p0) == CUDNN_STATUS_BAD_PARAM);  // device 0's memory
    REQUIRE(fwd(h1, p1) == CUDNN_STATUS_SUCCESS);
    REQUIRE(close(p1.y.download(), reference(kSmall, false, p1.hx, p1.hw, p1.hdy).y));
    REQUIRE(cudaStreamDestroy(s1) == cudaSuccess);
    REQUIRE(fwd(h1, p1) == CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH);  // its stream is gone
  }
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  REQUIRE(fwd(h0, p0) == CUDNN_STATUS_SUCCESS);
  REQUIRE(close(p0.y.download(), reference(kSmall, false, p0.hx, p0.hw, p0.hdy).y));
}

TEST_CASE("an emulated algorithm with a workspace writes all of it and nothing past it", "[emu]") {
  Handle h;
  const Geometry& g = kGeometries[2];
  Descriptors d(g, CUDNN_DATA_FLOAT);
  Problem<float> p(g);
  const float one = 1, zero = 0;
  constexpr uint32_t kPattern = 0x5A5A5A5Au;
  constexpr size_t kSlack = 16;  // words past the need
  const auto check = [&](size_t need, const std::function<cudnnStatus_t(void*, size_t)>& run) {
    REQUIRE(need % sizeof(uint32_t) == 0);
    DeviceArray<uint32_t> ws(need / sizeof(uint32_t) + kSlack);
    REQUIRE(cudaMemset(ws.get(), 0x5A, ws.bytes()) == cudaSuccess);
    REQUIRE(run(ws.get(), ws.bytes()) == CUDNN_STATUS_SUCCESS);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    const std::vector<uint32_t> words = ws.peek();
    size_t unwritten = 0, past = 0;
    for (size_t i = 0; i < words.size(); ++i) {
      (i < need / sizeof(uint32_t) ? unwritten : past) += words[i] == kPattern;
    }
    REQUIRE(unwritten == 0);
    REQUIRE(past == kSlack);
  };
  for (int algo : {1, 2}) {
    size_t need = 0;
    REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                    cudnnConvolutionFwdAlgo_t(algo),
                                                    &need) == CUDNN_STATUS_SUCCESS);
    check(need, [&](void* ws, size_t bytes) {
      return cudnnConvolutionForward(h, &one, d.x, p.x.get(), d.w, p.w.get(), d.conv,
                                     cudnnConvolutionFwdAlgo_t(algo), ws, bytes, &zero, d.y,
                                     p.y.get());
    });
  }
  size_t need = 0;
  REQUIRE(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x,
                                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                       &need) == CUDNN_STATUS_SUCCESS);
  check(need, [&](void* ws, size_t bytes) {
    return cudnnConvolutionBackwardData(h, &one, d.w, p.w.get(), d.y, p.dy.get(), d.conv,
                                        CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, ws, bytes, &zero, d.x,
                                        p.dx.get());
  });
  REQUIRE(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w,
                                                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                                         &need) == CUDNN_STATUS_SUCCESS);
  check(need, [&](void* ws, size_t bytes) {
    return cudnnConvolutionBackwardFilter(h, &one, d.x, p.x.get(), d.y, p.dy.get(), d.conv,
                                          CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, ws, bytes, &zero,
                                          d.w, p.dw.get());
  });
}

TEST_CASE("cudnnGetErrorString gives cuDNN's status names", "[emu]") {
  const auto text = [](cudnnStatus_t s) { return std::string(cudnnGetErrorString(s)); };
  REQUIRE(text(CUDNN_STATUS_SUCCESS) == "CUDNN_STATUS_SUCCESS");
  REQUIRE(text(CUDNN_STATUS_BAD_PARAM) == "CUDNN_STATUS_BAD_PARAM");
  REQUIRE(text(CUDNN_STATUS_NOT_SUPPORTED) == "CUDNN_STATUS_NOT_SUPPORTED");
  REQUIRE(text(CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH) == "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH");
  REQUIRE(text(CUDNN_STATUS_EXECUTION_FAILED) == "CUDNN_STATUS_EXECUTION_FAILED");
  REQUIRE(text(CUDNN_STATUS_ALLOC_FAILED) == "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED");
  REQUIRE(text(cudnnStatus_t(12345)) == "CUDNN_UNKNOWN_STATUS_FOUND");
  REQUIRE(cudnnCreate(nullptr) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnDestroy(nullptr) == CUDNN_STATUS_BAD_PARAM);
  REQUIRE(cudnnSetStream(nullptr, nullptr) == CUDNN_STATUS_BAD_PARAM);
}
