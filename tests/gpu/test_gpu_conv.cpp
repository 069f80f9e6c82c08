// conv2d on the GPU against the CPU reference, for every backend the chooser can pick (the
// hand-written depthwise and grouped kernels, cuDNN): forward and the gradients of input, weight
// and bias, float32 and float64, with the allocator's NaN poisoning and guard regions on.
//
// Tolerance, per element: |gpu − ref| ≤ rel · M, where ref is the float64 CPU result on the same
// (float32-representable) inputs and M is the same pass computed on absolute values (Σ|terms|,
// which bounds the rounding error of a sum in any order, so cancellation cannot make a correct
// result fail). float32: rel = (L + 2)·2⁻²⁴, the worst-case bound for a float32 sum of L products
// in any order, with L the pass's reduction length: C/groups·R·S + 1 forward, K/groups·R·S for the
// input gradient, N·OH·OW for the weight and bias gradients. float64: rel = 1e-10. TF32 (one test)
// adds 2⁻⁹: both factors of each product rounded (or truncated) to a 10-bit mantissa, ≤ 2⁻¹⁰ each.
#include "../test_support.h"
#include "gpu_compare.h"
#include "kernels/cuda/conv_select.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/runtime/context.h"

using namespace rtseg;
using namespace rtseg::testing;
using cuda::ConvBackend;

namespace {

struct ConvCase {
  int64_t n, c, h, w, k, r, s;
  std::array<int64_t, 2> stride, padding, dilation;
  int64_t groups;
  bool bias;
};

std::string describe(const ConvCase& t) {
  return fmt::format("N{} C{} {}×{} K{} kernel {}×{} stride ({},{}) pad ({},{}) dil ({},{}) g{}{}",
                     t.n, t.c, t.h, t.w, t.k, t.r, t.s, t.stride[0], t.stride[1], t.padding[0],
                     t.padding[1], t.dilation[0], t.dilation[1], t.groups, t.bias ? " bias" : "");
}

Conv2dParams params_of(const ConvCase& t) {
  Conv2dParams p;
  p.stride = t.stride;
  p.padding = t.padding;
  p.dilation = t.dilation;
  p.groups = t.groups;
  return p;
}

Conv2dGeometry geometry_of(const ConvCase& t) {
  Conv2dGeometry g;
  g.n = t.n, g.c = t.c, g.h = t.h, g.w = t.w, g.k = t.k, g.r = t.r, g.s = t.s;
  g.stride_h = t.stride[0], g.stride_w = t.stride[1];
  g.pad_h = t.padding[0], g.pad_w = t.padding[1];
  g.dil_h = t.dilation[0], g.dil_w = t.dilation[1], g.groups = t.groups;
  g.oh = conv_output_size(g.h, g.r, g.stride_h, g.pad_h, g.dil_h);
  g.ow = conv_output_size(g.w, g.s, g.stride_w, g.pad_w, g.dil_w);
  return g;
}

// Float32-representable values in [-1, 1) as float64 (so the reference sees the GPU's inputs).
Tensor float_exact(const Shape& shape, Generator& gen) {
  return rand_uniform(shape, -1, 1, gen, DType::F32).to(DType::F64);
}

Tensor abs_of(const Tensor& t) {
  std::vector<double> v = t.to_doubles();
  for (double& e : v) e = std::abs(e);
  return Tensor::from_doubles(v, t.shape(), DType::F64);
}

// Largest |gpu − ref| / (rel · magnitude); a NaN, or any error where the magnitude is 0, fails.
void require_within(const Tensor& gpu, const Tensor& ref, const Tensor& magnitude, double rel,
                    const char* what) {
  INFO(what << " " << gpu.describe());
  REQUIRE(gpu.defined());
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(gpu.shape() == ref.shape());
  const std::vector<double> g = gpu.to_doubles(), r = ref.to_doubles(), m = magnitude.to_doubles();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    REQUIRE_FALSE(std::isnan(g[i]));
    const double err = std::abs(g[i] - r[i]), allowed = rel * m[i];
    const double ratio = allowed > 0 ? err / allowed : (err == 0 ? 0.0 : INFINITY);
    if (ratio > worst) worst = ratio, at = i;
  }
  INFO("worst element " << at << ": gpu " << g[at] << " reference " << r[at] << " magnitude "
                        << m[at] << " (ratio " << worst << ")");
  REQUIRE(worst <= 1.0);
}

struct Passes {
  Tensor y, dx, dw, db;
};

// Forward + backward(dy) of conv2d on `device` in `dtype` from float64 values.
Passes run_conv(const ConvCase& t, const Tensor& x64, const Tensor& w64, const Tensor& b64,
                const Tensor& dy64, DType dtype, Device device) {
  Tensor x = x64.to(dtype).to(device), w = w64.to(dtype).to(device);
  Tensor b = t.bias ? b64.to(dtype).to(device) : Tensor();
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  if (b.defined()) b.set_requires_grad(true);
  Tensor y = conv2d(x, w, b, params_of(t));
  y.backward(dy64.to(dtype).to(device));
  return {y, x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

// Runs one case on the GPU (checking it takes `expected`) and compares all four results.
void check_conv(const ConvCase& t, DType dtype, ConvBackend expected, uint64_t seed,
                double tf32_extra = 0.0) {
  const Conv2dGeometry g = geometry_of(t);
  INFO(describe(t) << " " << dtype_name(dtype) << " on " << cuda::conv_backend_name(expected));
  REQUIRE(cuda::choose_conv_backend(g) == expected);
  DebugChecks debug;
  Generator gen(seed);
  const Tensor x = float_exact({t.n, t.c, t.h, t.w}, gen);
  const Tensor w = float_exact({t.k, t.c / t.groups, t.r, t.s}, gen);
  const Tensor b = float_exact({t.k}, gen);
  const Tensor dy = float_exact({t.n, t.k, g.oh, g.ow}, gen);
  const Passes ref = run_conv(t, x, w, b, dy, DType::F64, Device::cpu());
  const Passes mag =
      run_conv(t, abs_of(x), abs_of(w), abs_of(b), abs_of(dy), DType::F64, Device::cpu());
  const Passes gpu = run_conv(t, x, w, b, dy, dtype, kGpu);
  INFO("cuDNN algorithms: " << (expected == ConvBackend::Cudnn
                                    ? cuda::cudnn_conv2d_algorithms(g, dtype == DType::F64, 0)
                                    : std::string("none")));
  const double u = dtype == DType::F32 ? std::ldexp(1.0, -24) : 0.0;
  const auto rel = [&](double l) { return dtype == DType::F32 ? (l + 2) * u + tf32_extra : 1e-10; };
  require_within(gpu.y, ref.y, mag.y, rel(double(g.c_per_group() * g.r * g.s + 1)), "output");
  require_within(gpu.dx, ref.dx, mag.dx, rel(double(g.k_per_group() * g.r * g.s)), "input grad");
  require_within(gpu.dw, ref.dw, mag.dw, rel(double(g.n * g.oh * g.ow)), "weight grad");
  if (t.bias) require_within(gpu.db, ref.db, mag.db, rel(double(g.n * g.oh * g.ow)), "bias grad");
  REQUIRE(cuda::take_guard_violations() == 0);
}

// Depthwise 3×3, odd 17×23 planes, padding = dilation for dilations 1..23, stride 1 and 2,
// batch 1 and 2, channels 5 and 37 (not multiples of 32), depth multiplier 1 and 2.
std::vector<ConvCase> depthwise_cases() {
  std::vector<ConvCase> cases;
  int variant = 0;
  for (int64_t dil : {1, 2, 3, 5, 7, 9, 11, 13, 17, 23})
    for (int64_t stride : {1, 2}) {
      const int64_t n = 1 + variant % 2, c = variant % 3 == 0 ? 37 : 5;
      const int64_t k = variant % 4 == 1 ? 2 * c : c;
      cases.push_back(
          {n, c, 17, 23, k, 3, 3, {stride, stride}, {dil, dil}, {dil, dil}, c, variant % 3 != 2});
      ++variant;
    }
  return cases;
}

}  // namespace

TEST_CASE("depthwise conv2d on the GPU: every dilation 1..23, stride 1 and 2", "[gpu][conv]") {
  uint64_t seed = 1;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ConvCase& t : depthwise_cases()) check_conv(t, dt, ConvBackend::Depthwise, ++seed);
  }
}

TEST_CASE("depthwise conv2d on the GPU: other kernels, strides and plane sizes", "[gpu][conv]") {
  const std::vector<ConvCase> cases = {
      {2, 3, 9, 11, 6, 5, 5, {1, 1}, {2, 2}, {1, 1}, 3, true},        // 5×5, multiplier 2
      {1, 4, 10, 13, 4, 1, 5, {2, 1}, {0, 2}, {1, 2}, 4, true},       // 1×5, stride (2, 1)
      {1, 3, 12, 12, 3, 7, 7, {2, 2}, {6, 6}, {2, 2}, 3, false},      // 7×7, dilation 2
      {1, 2, 11, 13, 4, 3, 3, {3, 3}, {1, 1}, {1, 1}, 2, true},       // stride 3, multiplier 2
      {2, 3, 70, 300, 3, 3, 3, {1, 1}, {2, 2}, {2, 2}, 3, true},      // many tiles in both axes
      {1, 33, 129, 257, 33, 3, 3, {2, 2}, {1, 1}, {1, 1}, 33, true},  // stride 2, odd large
      {1, 1, 9, 9, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true},         // one input channel, K = 8
  };
  uint64_t seed = 100;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ConvCase& t : cases) check_conv(t, dt, ConvBackend::Depthwise, ++seed);
  }
}

TEST_CASE("grouped conv2d on the GPU: groups 4 and 16 and narrow groups", "[gpu][conv]") {
  const std::vector<ConvCase> cases = {
      {2, 8, 7, 9, 12, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, true},     // 2 in / 3 out per group
      {1, 16, 9, 11, 16, 3, 3, {2, 2}, {2, 2}, {2, 2}, 4, false},  // 4 out per group (4 per thread)
      {2, 36, 17, 23, 36, 3, 3, {1, 1}, {3, 3}, {3, 3}, 4, true},  // 9 per group, dilation 3
      {1, 32, 7, 9, 32, 3, 3, {1, 1}, {1, 1}, {1, 1}, 16, true},   // groups 16
      {2, 48, 17, 23, 96, 3, 3, {2, 2}, {1, 1}, {1, 1}, 16, true},  // groups 16, 3 in / 6 out
      {2, 12, 8, 13, 24, 1, 5, {2, 1}, {0, 2}, {1, 3}, 4, true},    // non-square, mixed stride
      {1, 16, 9, 9, 32, 5, 5, {1, 1}, {2, 2}, {1, 1}, 2, true},     // 5×5, 8 in / 16 out
      // PIDNet-S PAPPM (emulated: a quarter of its channels, 16× fewer weight-gradient blocks).
      kEmulatedDevice ? ConvCase{1, 96, 16, 32, 96, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, false}
                      : ConvCase{1, 384, 16, 32, 384, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, false},
      // Depthwise, but a 7×7 dilation-23 tile cannot be staged: the grouped kernel takes it.
      {1, 2, 150, 150, 2, 7, 7, {1, 1}, {69, 69}, {23, 23}, 2, true},
  };
  uint64_t seed = 200;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ConvCase& t : cases) check_conv(t, dt, ConvBackend::Grouped, ++seed);
  }
}

TEST_CASE("dense conv2d through cuDNN on the GPU", "[gpu][conv][cudnn]") {
  const std::vector<ConvCase> cases = {
      {2, 37, 17, 23, 19, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true},   // odd sizes, batch 2
      {1, 37, 17, 23, 40, 3, 3, {2, 2}, {2, 2}, {2, 2}, 1, true},   // stride 2, dilation 2
      {2, 19, 17, 23, 33, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, false},  // pointwise
      {1, 5, 17, 23, 7, 1, 5, {1, 2}, {0, 2}, {1, 1}, 1, true},     // non-square 1×5
      {2, 6, 17, 23, 9, 5, 3, {2, 1}, {2, 1}, {1, 2}, 1, true},     // non-square 5×3, mixed
      {1, 3, 33, 65, 16, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1, true},    // a stem conv
      {1, 300, 7, 9, 300, 3, 3, {1, 1}, {1, 1}, {1, 1}, 2, true},   // 150 per group: wide groups
  };
  uint64_t seed = 300;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ConvCase& t : cases) check_conv(t, dt, ConvBackend::Cudnn, ++seed);
  }
  const Conv2dGeometry g = geometry_of(cases[0]);
  const std::string algos = cuda::cudnn_conv2d_algorithms(g, false, 0);
  INFO(algos);
  REQUIRE(algos.find("forward") != std::string::npos);
  REQUIRE(algos.find("backward-data") != std::string::npos);
  REQUIRE(algos.find("backward-filter") != std::string::npos);
  REQUIRE(algos.find("FMA math") != std::string::npos);  // TF32 is off by default
}

TEST_CASE("cuDNN conv2d with TF32 on stays within TF32 rounding", "[gpu][conv][cudnn]") {
  cuda::Context& ctx = cuda::context(0);
  ctx.set_tf32(true);
  struct Restore {
    cuda::Context& c;
    ~Restore() { c.set_tf32(false); }
  } restore{ctx};
  check_conv({2, 37, 17, 23, 19, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true}, DType::F32,
             ConvBackend::Cudnn, 400, std::ldexp(1.0, -9));
}

TEST_CASE("CIFReNet depthwise shapes at 360×640 on the GPU, forward and backward once",
          "[gpu][conv]") {
  const std::vector<ConvCase> cases = {
      {1, 144, 90, 160, 144, 3, 3, {2, 2}, {1, 1}, {1, 1}, 144, true},
      {1, 192, 45, 80, 192, 3, 3, {1, 1}, {1, 1}, {1, 1}, 192, true},
      {1, 384, 45, 80, 384, 3, 3, {1, 1}, {2, 2}, {2, 2}, 384, true},
      {1, 576, 45, 80, 576, 3, 3, {1, 1}, {3, 3}, {3, 3}, 576, true},
      {1, 960, 45, 80, 960, 3, 3, {1, 1}, {5, 5}, {5, 5}, 960, true},
      {1, 960, 45, 80, 960, 3, 3, {1, 1}, {7, 7}, {7, 7}, 960, true},
  };
  uint64_t seed = 500;
  for (const ConvCase& t : cases) check_conv(t, DType::F32, ConvBackend::Depthwise, ++seed);
}

TEST_CASE("depthwise forward with a fused bias + ReLU / ReLU6 epilogue", "[gpu][conv]") {
  const ConvCase t{2, 37, 17, 23, 74, 3, 3, {1, 1}, {2, 2}, {2, 2}, 37, true};
  const Conv2dGeometry g = geometry_of(t);
  Generator gen(600);
  DebugChecks debug;
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(dtype_name(dt));
    // Inputs scaled so that a good share of the outputs lands above 6 and below 0.
    const Tensor x = mul_scalar(float_exact({t.n, t.c, t.h, t.w}, gen), 4);
    const Tensor w = float_exact({t.k, 1, t.r, t.s}, gen), b = float_exact({t.k}, gen);
    const Tensor conv_ref = conv2d(x, w, b, params_of(t));
    const Tensor mag = conv2d(abs_of(x), abs_of(w), abs_of(b), params_of(t));
    const Tensor xg = x.to(dt).to(kGpu), wg = w.to(dt).to(kGpu), bg = b.to(dt).to(kGpu);
    const double rel = dt == DType::F32 ? 12 * std::ldexp(1.0, -24) : 1e-10;
    for (auto [epilogue, ref] : {std::pair{ConvEpilogue::Relu, relu(conv_ref)},
                                 std::pair{ConvEpilogue::Relu6, relu6(conv_ref)}}) {
      Tensor y = Tensor::empty({g.n, g.k, g.oh, g.ow}, dt, kGpu);
      if (dt == DType::F32) {
        cuda::depthwise_conv2d_forward(y.data<float>(), xg.data<float>(), wg.data<float>(),
                                       bg.data<float>(), g, epilogue, cuda::stream_of(0));
      } else {
        cuda::depthwise_conv2d_forward(y.data<double>(), xg.data<double>(), wg.data<double>(),
                                       bg.data<double>(), g, epilogue, cuda::stream_of(0));
      }
      require_within(y, ref, mag, rel, "fused epilogue");
    }
  }
  REQUIRE(cuda::take_guard_violations() == 0);
}
