// The CUDA conv kernels' bodies, emulated on the CPU.
//
// The depthwise and grouped CUDA kernels are thin wrappers around host+device bodies
// (kernels/cuda/depthwise_conv.h, grouped_conv.h). Running those bodies here — the blocks of the
// launch grid one after another, the threads of a block one after another between its barriers —
// checks the tile plans, staging windows and index arithmetic against the reference kernels on
// every machine, GPU or not. Shared memory starts as NaN with a NaN guard after it and outputs
// start as NaN, so reading an element that was never staged, or leaving an output unwritten,
// shows up as NaN. Also: the backend chooser's classes and the tile plans' invariants.
// (tests/gpu/test_gpu_conv.cpp runs the real launches.)
#include <algorithm>
#include <limits>

#include "kernels/cpu/conv2d.h"
#include "kernels/cuda/conv_select.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct ConvCase {
  int64_t n, c, h, w, k, r, s;
  std::array<int64_t, 2> stride, padding, dilation;
  int64_t groups;
  bool bias;
};

std::string describe(const ConvCase& t) {
  return fmt::format(
      "N{} C{} {}×{} K{} kernel {}×{} stride ({},{}) pad ({},{}) dil ({},{}) groups {}{}", t.n, t.c,
      t.h, t.w, t.k, t.r, t.s, t.stride[0], t.stride[1], t.padding[0], t.padding[1], t.dilation[0],
      t.dilation[1], t.groups, t.bias ? " bias" : "");
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

constexpr int kEmuThreads = 256;
static_assert(kEmuThreads == cuda::kDepthwiseThreads && kEmuThreads == cuda::kDirectConvThreads);

template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

template <typename T>
struct EmuData {
  std::vector<T> x, w, b, dy;
  const T* bias() const { return b.empty() ? nullptr : b.data(); }
};

template <typename T, int KS>
void emulate_depthwise_forward(std::vector<T>& y, const EmuData<T>& d, const Conv2dGeometry& g,
                               ConvEpilogue ep, bool& ok) {
  const cuda::DepthwiseTilePlan plan = cuda::plan_depthwise_forward(g, sizeof(T));
  REQUIRE(plan.fits);
  const cuda::DepthwiseParams p = cuda::depthwise_params(g, plan);
  const size_t capacity = plan.smem_bytes / sizeof(T);
  std::vector<T> smem(capacity + 1024);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int tile = 0; tile < plan.tiles_h * plan.tiles_w; ++tile) {
        const cuda::TileWindow t = cuda::depthwise_forward_window(p, tile);
        ok = ok && static_cast<size_t>(t.rows) * t.cols <= capacity;
        std::fill(smem.begin(), smem.end(), kNaN<T>);
        const T* x_plane = d.x.data() + (n * g.c + c) * g.h * g.w;
        for (int tid = 0; tid < kEmuThreads; ++tid)
          cuda::stage_region(smem.data(), x_plane, p.w, t, tid, kEmuThreads);
        for (int j = 0; j < p.mult; ++j) {
          const int64_t k = c * p.mult + j;
          for (int tid = 0; tid < kEmuThreads; ++tid)
            cuda::depthwise_forward_tile<T, KS>(
                y.data() + (n * g.k + k) * g.oh * g.ow, smem.data(), d.w.data() + k * g.r * g.s,
                d.b.empty() ? T(0) : d.b[k], ep, p, t, tid, kEmuThreads);
        }
      }
}

template <typename T, int KS, int ST>
void emulate_depthwise_backward_data(std::vector<T>& dx, const EmuData<T>& d,
                                     const Conv2dGeometry& g, bool& ok) {
  const cuda::DepthwiseTilePlan plan = cuda::plan_depthwise_backward_data(g, sizeof(T));
  REQUIRE(plan.fits);
  const cuda::DepthwiseParams p = cuda::depthwise_params(g, plan);
  const size_t capacity = plan.smem_bytes / sizeof(T);
  std::vector<T> smem(capacity + 1024);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int tile = 0; tile < plan.tiles_h * plan.tiles_w; ++tile) {
        const cuda::TileWindow t = cuda::depthwise_backward_data_window(p, tile);
        ok = ok && static_cast<size_t>(t.rows) * t.cols <= capacity;
        T* dx_plane = dx.data() + (n * g.c + c) * g.h * g.w;
        for (int j = 0; j < p.mult; ++j) {
          const int64_t k = c * p.mult + j;
          std::fill(smem.begin(), smem.end(), kNaN<T>);
          for (int tid = 0; tid < kEmuThreads; ++tid)
            cuda::stage_region(smem.data(), d.dy.data() + (n * g.k + k) * g.oh * g.ow, p.ow, t, tid,
                               kEmuThreads);
          for (int tid = 0; tid < kEmuThreads; ++tid)
            cuda::depthwise_backward_data_tile<T, KS, ST>(
                dx_plane, smem.data(), d.w.data() + k * g.r * g.s, j > 0, p, t, tid, kEmuThreads);
        }
      }
}

template <typename T, int KS>
void emulate_weight_grad(std::vector<T>& dw, const EmuData<T>& d, const Conv2dGeometry& g) {
  constexpr int kTaps = KS > 0 ? KS * KS : 1;
  const cuda::DirectConvParams p = cuda::direct_conv_params(g);
  const int rs = p.r * p.s;
  std::vector<T> ws(p.chunks > 1 ? g.weight_numel() * p.chunks : 0, kNaN<T>);
  T* out = p.chunks > 1 ? ws.data() : dw.data();
  const int64_t blocks = g.k * g.c_per_group() * (KS > 0 ? 1 : rs);
  for (int64_t bx = 0; bx < blocks; ++bx)
    for (int chunk = 0; chunk < p.chunks; ++chunk) {
      const int row = static_cast<int>(KS > 0 ? bx : bx / rs);
      const int tap0 = static_cast<int>(KS > 0 ? 0 : bx - int64_t{row} * rs);
      T total[kTaps] = {};
      for (int tid = 0; tid < kEmuThreads; ++tid) {
        T acc[kTaps] = {};
        cuda::weight_grad_partial<T, KS>(acc, d.dy.data(), d.x.data(), p, row, tap0, chunk, tid,
                                         kEmuThreads);
        for (int t = 0; t < kTaps; ++t) total[t] += acc[t];
      }
      for (int t = 0; t < kTaps; ++t)
        out[cuda::weight_grad_slot(p, row, tap0 + t, chunk)] = total[t];
    }
  if (p.chunks > 1) {
    for (int64_t i = 0; i < g.weight_numel(); ++i)
      cuda::weight_grad_finish(dw.data(), ws.data(), p, i);
  }
}

template <typename T, int KS, int KB>
void emulate_grouped_forward(std::vector<T>& y, const EmuData<T>& d, const Conv2dGeometry& g) {
  const cuda::DirectConvParams p = cuda::direct_conv_params(g);
  for (int n = 0; n < p.n; ++n)
    for (int kb = 0; kb < p.k / KB; ++kb)
      for (int o = 0; o < p.oh * p.ow; ++o)
        cuda::grouped_forward_outputs<T, KS, KB>(y.data(), d.x.data(), d.w.data(), d.bias(), p, n,
                                                 kb * KB, o);
}

template <typename T, int KS>
void emulate_grouped_backward_data(std::vector<T>& dx, const EmuData<T>& d,
                                   const Conv2dGeometry& g) {
  const cuda::DirectConvParams p = cuda::direct_conv_params(g);
  for (int n = 0; n < p.n; ++n)
    for (int c = 0; c < p.c; ++c)
      for (int i = 0; i < p.h * p.w; ++i)
        cuda::grouped_backward_data_input<T, KS>(dx.data(), d.dy.data(), d.w.data(), p, n, c, i);
}

// The three passes as the CUDA side of conv2d runs them (same backend choice, same template
// variants as the launchers).
template <typename T>
void emulate_cuda_conv(const Conv2dGeometry& g, const EmuData<T>& d, std::vector<T>& y,
                       std::vector<T>& dx, std::vector<T>& dw, bool& ok) {
  y.assign(g.output_numel(), kNaN<T>);
  dx.assign(g.input_numel(), kNaN<T>);
  dw.assign(g.weight_numel(), kNaN<T>);
  const cuda::ConvBackend backend = cuda::choose_conv_backend(g);
  REQUIRE(backend != cuda::ConvBackend::Cudnn);
  if (cuda::weight_grad_per_tap(g)) {
    emulate_weight_grad<T, 0>(dw, d, g);
  } else {
    emulate_weight_grad<T, 3>(dw, d, g);
  }
  const bool k3 = cuda::grouped_kernel_variant(g) == 3;
  if (backend == cuda::ConvBackend::Grouped) {
    const bool kb4 = cuda::grouped_channel_block(g) == 4;
    if (k3 && kb4) emulate_grouped_forward<T, 3, 4>(y, d, g);
    if (k3 && !kb4) emulate_grouped_forward<T, 3, 1>(y, d, g);
    if (!k3 && kb4) emulate_grouped_forward<T, 0, 4>(y, d, g);
    if (!k3 && !kb4) emulate_grouped_forward<T, 0, 1>(y, d, g);
    if (k3) emulate_grouped_backward_data<T, 3>(dx, d, g);
    if (!k3) emulate_grouped_backward_data<T, 0>(dx, d, g);
    return;
  }
  REQUIRE(cuda::depthwise_kernel_variant(g) == (k3 ? 3 : 0));
  if (k3) {
    emulate_depthwise_forward<T, 3>(y, d, g, ConvEpilogue::None, ok);
  } else {
    emulate_depthwise_forward<T, 0>(y, d, g, ConvEpilogue::None, ok);
  }
  switch (cuda::depthwise_stride_variant(g) + (k3 ? 10 : 0)) {
    case 11:
      emulate_depthwise_backward_data<T, 3, 1>(dx, d, g, ok);
      break;
    case 12:
      emulate_depthwise_backward_data<T, 3, 2>(dx, d, g, ok);
      break;
    case 10:
      emulate_depthwise_backward_data<T, 3, 0>(dx, d, g, ok);
      break;
    case 1:
      emulate_depthwise_backward_data<T, 0, 1>(dx, d, g, ok);
      break;
    case 2:
      emulate_depthwise_backward_data<T, 0, 2>(dx, d, g, ok);
      break;
    default:
      emulate_depthwise_backward_data<T, 0, 0>(dx, d, g, ok);
      break;
  }
}

// Worst |actual − ref| / (rel · magnitude) over the elements (≤ 1 passes); `magnitude` is the same
// computation on absolute values (Σ|terms|, which bounds the rounding error of any summation
// order); a NaN in `actual` is infinitely bad.
template <typename T>
double bound_ratio(const std::vector<T>& actual, const std::vector<double>& ref,
                   const std::vector<double>& magnitude, double rel) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(static_cast<double>(actual[i]))) return INFINITY;
    const double err = std::abs(static_cast<double>(actual[i]) - ref[i]);
    const double allowed = rel * magnitude[i];
    worst = std::max(worst, allowed > 0 ? err / allowed : (err == 0 ? 0.0 : INFINITY));
  }
  return worst;
}

std::vector<double> abs_of(std::vector<double> v) {
  for (double& e : v) e = std::abs(e);
  return v;
}

// Runs the emulation in T on values representable in float32 and compares each pass with the
// float64 reference kernels. Tolerance: the summation bound (L + 2)·u·Σ|terms| with L the pass's
// reduction length and u the unit roundoff of T.
template <typename T>
void check_emulated_conv(const ConvCase& t, uint64_t seed) {
  const Conv2dGeometry g = geometry_of(t);
  Generator gen(seed);
  auto values = [&](int64_t n) {
    return n == 0 ? std::vector<double>{}
                  : rand_uniform({n}, -1, 1, gen, DType::F32).to_doubles();  // float-exact
  };
  const std::vector<double> x = values(g.input_numel()), w = values(g.weight_numel()),
                            b = values(t.bias ? g.k : 0), dy = values(g.output_numel());
  const std::vector<double> ax = abs_of(x), aw = abs_of(w), ab = abs_of(b), ady = abs_of(dy);
  std::vector<double> y_ref(g.output_numel()), dx_ref(g.input_numel()), dw_ref(g.weight_numel());
  std::vector<double> y_mag = y_ref, dx_mag = dx_ref, dw_mag = dw_ref;
  cpu::conv2d_forward(y_ref.data(), x.data(), w.data(), t.bias ? b.data() : nullptr, g);
  cpu::conv2d_backward_input(dx_ref.data(), dy.data(), w.data(), g);
  cpu::conv2d_backward_weight(dw_ref.data(), dy.data(), x.data(), g);
  cpu::conv2d_forward(y_mag.data(), ax.data(), aw.data(), t.bias ? ab.data() : nullptr, g);
  cpu::conv2d_backward_input(dx_mag.data(), ady.data(), aw.data(), g);
  cpu::conv2d_backward_weight(dw_mag.data(), ady.data(), ax.data(), g);

  const auto cast = [](const std::vector<double>& v) { return std::vector<T>(v.begin(), v.end()); };
  const EmuData<T> d{cast(x), cast(w), cast(b), cast(dy)};
  std::vector<T> y, dx, dw;
  bool staged_within_plan = true;
  emulate_cuda_conv(g, d, y, dx, dw, staged_within_plan);
  REQUIRE(staged_within_plan);
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double l_fwd = g.c_per_group() * g.r * g.s + 1, l_dx = g.k_per_group() * g.r * g.s,
               l_dw = g.n * g.oh * g.ow;
  CHECK(bound_ratio(y, y_ref, y_mag, (l_fwd + 2) * u) <= 1.0);
  CHECK(bound_ratio(dx, dx_ref, dx_mag, (l_dx + 2) * u) <= 1.0);
  CHECK(bound_ratio(dw, dw_ref, dw_mag, (l_dw + 2) * u) <= 1.0);
}

// Depthwise 3×3 on an odd plane with padding = dilation for every dilation the nets use (and
// 23), stride 1 and 2, batch 1 and 2, depth multiplier 1 and 2, bias on and off.
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

const std::vector<ConvCase> kEmulatedSpecialCases = {
    {2, 3, 9, 11, 6, 5, 5, {1, 1}, {2, 2}, {1, 1}, 3, true},     // depthwise 5×5, multiplier 2
    {1, 4, 10, 13, 4, 1, 5, {2, 1}, {0, 2}, {1, 2}, 4, true},    // depthwise 1×5, stride (2, 1)
    {1, 3, 12, 12, 3, 7, 7, {2, 2}, {6, 6}, {2, 2}, 3, false},   // depthwise 7×7, dilation 2
    {1, 2, 11, 13, 4, 3, 3, {3, 3}, {1, 1}, {1, 1}, 2, true},    // depthwise stride 3
    {1, 2, 70, 300, 2, 3, 3, {1, 1}, {2, 2}, {2, 2}, 2, true},   // many tiles in both axes
    {1, 2, 9, 9, 2, 3, 3, {1, 1}, {0, 0}, {1, 1}, 2, false},     // no padding
    {1, 3, 6, 6, 3, 1, 1, {1, 1}, {2, 2}, {1, 1}, 3, true},      // 1×1: border outputs = bias
    {2, 8, 7, 9, 12, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, true},     // groups 4, 2 in / 3 out
    {1, 16, 9, 11, 16, 3, 3, {2, 2}, {2, 2}, {2, 2}, 4, false},  // groups 4, 4 out (KB = 4)
    {1, 32, 7, 9, 32, 3, 3, {1, 1}, {1, 1}, {1, 1}, 16, true},   // groups 16
    {2, 12, 8, 7, 24, 1, 5, {2, 1}, {0, 2}, {1, 3}, 4, true},    // grouped, non-square
    {1, 16, 9, 9, 32, 5, 5, {1, 1}, {2, 2}, {1, 1}, 2, true},    // grouped 5×5, KB = 4
    {1, 2, 150, 150, 2, 7, 7, {1, 1}, {69, 69}, {23, 23}, 2, true},  // depthwise, tile too big
};

}  // namespace

TEST_CASE("CUDA conv kernel bodies, emulated on the CPU, match the reference", "[conv][cuda]") {
  std::vector<ConvCase> cases = depthwise_cases();
  cases.insert(cases.end(), kEmulatedSpecialCases.begin(), kEmulatedSpecialCases.end());
  uint64_t seed = 100;
  for (const ConvCase& t : cases) {
    INFO(describe(t) << " -> "
                     << cuda::conv_backend_name(cuda::choose_conv_backend(geometry_of(t))));
    check_emulated_conv<double>(t, ++seed);
    check_emulated_conv<float>(t, ++seed);
  }
}

TEST_CASE("CUDA conv kernel bodies on CIFReNet's depthwise shapes at 360×640", "[conv][cuda]") {
  // Input shapes of depthwise convs at 1/4 and 1/8 resolution, batch 1: the stride-2 one (the
  // smallest grid, so the planner cuts the most rows), and the narrowest and widest 1/8 ones.
  // tests/gpu/test_gpu_conv.cpp runs all six.
  const std::vector<ConvCase> cases = {
      {1, 144, 90, 160, 144, 3, 3, {2, 2}, {1, 1}, {1, 1}, 144, true},
      {1, 192, 45, 80, 192, 3, 3, {1, 1}, {1, 1}, {1, 1}, 192, true},
      {1, 960, 45, 80, 960, 3, 3, {1, 1}, {7, 7}, {7, 7}, 960, true},
  };
  uint64_t seed = 300;
  for (const ConvCase& t : cases) {
    INFO(describe(t));
    REQUIRE(cuda::choose_conv_backend(geometry_of(t)) == cuda::ConvBackend::Depthwise);
    check_emulated_conv<float>(t, ++seed);
  }
}

TEST_CASE("choose_conv_backend picks the kernel documented for each class", "[conv][cuda]") {
  using cuda::ConvBackend;
  const auto pick = [](const ConvCase& t) { return cuda::choose_conv_backend(geometry_of(t)); };
  for (const ConvCase& t : depthwise_cases()) {
    INFO(describe(t));
    REQUIRE(pick(t) == ConvBackend::Depthwise);
  }
  // Depthwise with other kernels, strides and multipliers still fits the depthwise kernels.
  REQUIRE(pick(kEmulatedSpecialCases[0]) == ConvBackend::Depthwise);
  REQUIRE(pick(kEmulatedSpecialCases[1]) == ConvBackend::Depthwise);
  REQUIRE(pick(kEmulatedSpecialCases[3]) == ConvBackend::Depthwise);
  REQUIRE(pick({1, 1, 9, 9, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, false}) == ConvBackend::Depthwise);
  // A 7×7 dilation-23 depthwise conv on a 150×150 plane cannot stage even an 8×32 tile.
  REQUIRE(pick(kEmulatedSpecialCases.back()) == ConvBackend::Grouped);
  REQUIRE_FALSE(cuda::plan_depthwise_forward(geometry_of(kEmulatedSpecialCases.back()), 8).fits);
  // Groups 4 and 16 and other narrow groups: the grouped kernel.
  REQUIRE(pick({1, 16, 9, 9, 16, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, true}) == ConvBackend::Grouped);
  REQUIRE(pick({1, 64, 9, 9, 64, 3, 3, {2, 2}, {1, 1}, {1, 1}, 16, true}) == ConvBackend::Grouped);
  REQUIRE(pick({1, 384, 16, 32, 384, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, false}) ==
          ConvBackend::Grouped);  // PIDNet-S PAPPM: 96 channels per group
  // Dense convs and wide groups: cuDNN.
  REQUIRE(pick({2, 37, 17, 23, 19, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true}) == ConvBackend::Cudnn);
  REQUIRE(pick({1, 5, 17, 23, 7, 1, 5, {1, 2}, {0, 2}, {1, 1}, 1, true}) == ConvBackend::Cudnn);
  REQUIRE(pick({1, 512, 9, 9, 512, 3, 3, {1, 1}, {1, 1}, {1, 1}, 2, true}) == ConvBackend::Cudnn);
  // The op-level query reads the same choice from tensors.
  const auto by_op = [](const ConvCase& t) {
    Conv2dParams p;
    p.stride = t.stride, p.padding = t.padding, p.dilation = t.dilation, p.groups = t.groups;
    return std::string(conv2d_cuda_backend(Tensor::zeros({t.n, t.c, t.h, t.w}),
                                           Tensor::zeros({t.k, t.c / t.groups, t.r, t.s}), p));
  };
  REQUIRE(by_op(depthwise_cases()[3]) == "depthwise");
  REQUIRE(by_op(kEmulatedSpecialCases.back()) == "grouped");
  REQUIRE(by_op({1, 5, 17, 23, 7, 1, 5, {1, 2}, {0, 2}, {1, 1}, 1, true}) == "cudnn");
  REQUIRE(std::string(cuda::conv_backend_name(ConvBackend::Depthwise)) == "depthwise");
  REQUIRE(std::string(cuda::conv_backend_name(ConvBackend::Grouped)) == "grouped");
  REQUIRE(std::string(cuda::conv_backend_name(ConvBackend::Cudnn)) == "cudnn");
}

TEST_CASE("depthwise tile plans stay within shared memory and cover the plane", "[conv][cuda]") {
  for (const ConvCase& t : depthwise_cases()) {
    const Conv2dGeometry g = geometry_of(t);
    for (size_t bytes : {size_t{4}, size_t{8}}) {
      for (const cuda::DepthwiseTilePlan& plan :
           {cuda::plan_depthwise_forward(g, bytes), cuda::plan_depthwise_backward_data(g, bytes)}) {
        INFO(describe(t) << " element bytes " << bytes);
        REQUIRE(plan.fits);
        REQUIRE(plan.smem_bytes <= cuda::kDepthwiseSmemBudget);
        REQUIRE(plan.smem_bytes == static_cast<size_t>(plan.stage_h * plan.stage_w) * bytes);
        REQUIRE(plan.tile_w % 32 == 0);
        REQUIRE(plan.tile_h % 8 == 0);
      }
      REQUIRE(cuda::plan_depthwise_forward(g, bytes).tiles_h *
                  cuda::plan_depthwise_forward(g, bytes).tile_h >=
              g.oh);
      REQUIRE(cuda::plan_depthwise_forward(g, bytes).tiles_w *
                  cuda::plan_depthwise_forward(g, bytes).tile_w >=
              g.ow);
    }
  }
}
