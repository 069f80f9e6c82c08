// The fast CPU backend (kernels/cpu_fast) against the reference kernels, its oracle: conv2d
// forward and all three gradients over generated geometries, hand-picked corners and every
// convolution shape of the three nets (traced at a small input), float32 fast vs float64
// reference; the same bits for 1, 2 and 3 threads; the thread pool's contract; host poisoning.
#include <atomic>
#include <cstring>
#include <limits>

#include "apps/bench/conv_shapes.h"
#include "core/backend.h"
#include "core/host_allocator.h"
#include "core/ops/loss.h"
#include "core/ops/norm.h"
#include "kernels/cpu_fast/conv2d.h"
#include "kernels/cpu_fast/direct_conv.h"
#include "kernels/cpu_fast/thread_pool.h"
#include "nets/registry.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Case {
  Shape input;
  int64_t k, r, s;
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  bool bias;
};

std::string describe(const Case& t) {
  return fmt::format("input {} K{} {}×{} stride ({},{}) pad ({},{}) dil ({},{}) groups {}{}",
                     shape_str(t.input), t.k, t.r, t.s, t.stride_h, t.stride_w, t.pad_h, t.pad_w,
                     t.dil_h, t.dil_w, t.groups, t.bias ? " bias" : "");
}

Conv2dParams params_of(const Case& t) {
  Conv2dParams p;
  p.stride = {t.stride_h, t.stride_w};
  p.padding = {t.pad_h, t.pad_w};
  p.dilation = {t.dil_h, t.dil_w};
  p.groups = t.groups;
  return p;
}

// Odd sizes; batch 1 and 2; stride 1/2; dilation 1/2/5; groups 1, 4, C (and a multiplier);
// 1×1 with and without padding or stride; kernels larger than the dilation's reach.
std::vector<Case> generated_cases() {
  std::vector<Case> cases;
  int variant = 0;
  for (int64_t n : {1, 2})
    for (int64_t stride : {1, 2})
      for (int64_t dil : {1, 2, 5})
        for (int64_t groups : {1, 4, 12}) {
          const int64_t k = variant % 2 ? 12 : 24;
          const int64_t pad = variant % 3 == 2 ? dil - 1 : dil;
          cases.push_back({{n, 12, 11, 13},
                           k,
                           3,
                           3,
                           stride,
                           stride,
                           pad,
                           pad,
                           dil,
                           dil,
                           groups,
                           variant % 3 != 0});
          ++variant;
        }
  cases.push_back({{2, 7, 9, 5}, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, true});      // pointwise
  cases.push_back({{1, 7, 9, 5}, 9, 1, 1, 2, 2, 0, 0, 1, 1, 1, true});      // strided 1×1
  cases.push_back({{1, 7, 9, 5}, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, false});     // padded 1×1
  cases.push_back({{2, 8, 6, 33}, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4, true});     // grouped 1×1
  cases.push_back({{1, 6, 9, 7}, 18, 3, 3, 2, 1, 1, 3, 1, 3, 6, false});    // multiplier 3
  cases.push_back({{1, 4, 8, 11}, 4, 1, 5, 1, 2, 0, 2, 1, 1, 1, true});     // non-square
  cases.push_back({{1, 16, 7, 7}, 16, 3, 3, 1, 1, 23, 23, 23, 23, 16, 1});  // taps in padding
  cases.push_back({{1, 3, 37, 41}, 5, 7, 7, 2, 2, 3, 3, 1, 1, 1, true});    // 7×7 stem
  cases.push_back({{1, 2, 300, 3}, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, true});    // tall: many blocks
  return cases;
}

// Every convolution of the three nets, traced at a small input.
std::vector<Case> net_cases() {
  std::vector<Case> cases;
  autograd::NoGradGuard no_grad;
  for (const char* name : {"cifrenet", "pidnet-s", "icfrnet"}) {
    NetOptions options;
    options.num_classes = 5;
    auto net = create_net(name, options);
    for (const ConvShape& s : collect_conv_shapes(*net, {1, 3, 64, 96})) {
      cases.push_back({s.input, s.out_channels, s.kernel, s.kernel, s.stride, s.stride, s.padding,
                       s.padding, s.dilation, s.dilation, s.groups, true});
    }
  }
  return cases;
}

// The kernels' view of a case.
Conv2dGeometry geometry_of(const Case& t) {
  Conv2dGeometry g;
  g.n = t.input[0], g.c = t.input[1], g.h = t.input[2], g.w = t.input[3];
  g.k = t.k, g.r = t.r, g.s = t.s, g.groups = t.groups;
  g.stride_h = t.stride_h, g.stride_w = t.stride_w, g.pad_h = t.pad_h, g.pad_w = t.pad_w;
  g.dil_h = t.dil_h, g.dil_w = t.dil_w;
  g.oh = conv_output_size(g.h, g.r, g.stride_h, g.pad_h, g.dil_h);
  g.ow = conv_output_size(g.w, g.s, g.stride_w, g.pad_w, g.dil_w);
  return g;
}

struct Result {
  Tensor y, dx, dw, db;
};

Result run_conv(const Case& t, DType dtype, Backend backend, uint64_t seed) {
  CpuBackendGuard guard(backend);
  Generator gen(seed);
  const int64_t cg = t.input[1] / t.groups;
  Tensor x = random_input(t.input, gen, -1, 1, DType::F64);
  Tensor w = random_input({t.k, cg, t.r, t.s}, gen, -1, 1, DType::F64);
  Tensor b = t.bias ? random_input({t.k}, gen, -1, 1, DType::F64) : Tensor();
  x = x.detach().to(dtype), w = w.detach().to(dtype);
  if (b.defined()) b = b.detach().to(dtype);
  for (Tensor* v : {&x, &w, &b}) {
    if (v->defined()) v->set_requires_grad(true);
  }
  Result r;
  r.y = conv2d(x, w, b, params_of(t));
  const Tensor seed_grad = rand_uniform(r.y.shape(), -1, 1, gen, dtype);
  r.y.backward(seed_grad);
  r.dx = x.grad(), r.dw = w.grad();
  if (b.defined()) r.db = b.grad();
  return r;
}

// Tolerance for a float32 sum of `terms` products of values in [-1, 1]: relative to the size
// such a sum reaches (√terms), a few roundings per term.
void require_close_sum(const Tensor& fast, const Tensor& exact, int64_t terms) {
  const double scale = std::sqrt(static_cast<double>(std::max<int64_t>(terms, 1)));
  require_close(fast, exact, 1e-5, 2e-6 * scale);
}

void compare_with_reference(const Case& t) {
  INFO(describe(t));
  const Result fast = run_conv(t, DType::F32, Backend::CpuFast, 7);
  const Result exact = run_conv(t, DType::F64, Backend::CpuReference, 7);
  const int64_t cg = t.input[1] / t.groups, kg = t.k / t.groups;
  const int64_t taps = t.r * t.s, pixels = t.input[0] * fast.y.size(2) * fast.y.size(3);
  require_close_sum(fast.y, exact.y, cg * taps);
  require_close_sum(fast.dx, exact.dx, kg * taps);
  require_close_sum(fast.dw, exact.dw, pixels);
  if (t.bias) require_close_sum(fast.db, exact.db, pixels);
}

// conv2d_add in float32 on the fast backend against conv2d + add + the activation in float64 on
// the reference backend.
void compare_conv_add_with_reference(const Case& t, ConvEpilogue e) {
  INFO(describe(t) << " epilogue " << static_cast<int>(e));
  autograd::NoGradGuard no_grad;
  Generator gen(5);
  const int64_t cg = t.input[1] / t.groups;
  const Tensor x = random_input(t.input, gen, -1, 1, DType::F64);
  const Tensor w = random_input({t.k, cg, t.r, t.s}, gen, -1, 1, DType::F64);
  const Tensor b = t.bias ? random_input({t.k}, gen, -1, 1, DType::F64) : Tensor();
  Conv2dParams p = params_of(t);
  Tensor exact;
  Tensor residual;  // float32 values, exact in float64
  {
    CpuBackendGuard guard(Backend::CpuReference);
    exact = conv2d(x, w, b, p);
    residual = random_input(exact.shape(), gen, -1, 1, DType::F32);
    exact = add(exact, residual.to(DType::F64));
    if (e == ConvEpilogue::Relu) exact = relu(exact);
  }
  p.epilogue = e;
  CpuBackendGuard guard(Backend::CpuFast);
  const Tensor fast = conv2d_add(x.to(DType::F32), w.to(DType::F32),
                                 b.defined() ? b.to(DType::F32) : Tensor(), p, residual);
  require_close_sum(fast, exact, cg * t.r * t.s);
}

void require_same_bits(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  REQUIRE(std::memcmp(a.raw_data(), b.raw_data(), a.numel() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("fast conv2d matches the reference on generated geometries", "[cpu_fast][conv]") {
  REQUIRE(cpu_fast_available());
  for (const Case& t : generated_cases()) compare_with_reference(t);
}

TEST_CASE("fast conv2d matches the reference on every conv of the three nets", "[cpu_fast][conv]") {
  const std::vector<Case> cases = net_cases();
  REQUIRE(cases.size() > 50);
  for (const Case& t : cases) compare_with_reference(t);
}

TEST_CASE("fast conv2d matches the reference through im2col, direct kernels off",
          "[cpu_fast][conv]") {
  cpu_fast::set_direct_conv_enabled(false);
  for (const Case& t : generated_cases()) compare_with_reference(t);
  cpu_fast::set_direct_conv_enabled(true);
}

TEST_CASE("fast conv2d_add (a residual join) matches conv + add + activation in float64",
          "[cpu_fast][conv]") {
  std::vector<Case> cases = generated_cases();
  for (const Case& t : net_cases())
    if (t.groups == 1 || t.groups == t.input[1]) cases.push_back(t);
  for (const bool direct : {true, false}) {
    cpu_fast::set_direct_conv_enabled(direct);
    for (const Case& t : cases) {
      compare_conv_add_with_reference(t, ConvEpilogue::None);
      compare_conv_add_with_reference(t, ConvEpilogue::Relu);
    }
  }
  cpu_fast::set_direct_conv_enabled(true);
}

TEST_CASE("conv2d_add refuses a residual of another shape or dtype", "[cpu_fast][conv]") {
  const Tensor x = Tensor::zeros({1, 4, 5, 5}, DType::F32);
  const Tensor w = Tensor::zeros({6, 4, 3, 3}, DType::F32);
  Conv2dParams p;
  p.padding = {1, 1};
  REQUIRE_THROWS_WITH(conv2d_add(x, w, Tensor(), p, Tensor::zeros({1, 4, 5, 5}, DType::F32)),
                      Catch::Contains("residual (the conv's output) must have shape [1, 6, 5, 5]"));
  REQUIRE_THROWS_WITH(conv2d_add(x, w, Tensor(), p, Tensor::zeros({1, 6, 5, 5}, DType::F64)),
                      Catch::Contains("conv2d_add: x is"));
}

TEST_CASE("oneDNN's direct kernels serve the nets' dense convolutions, epilogue and input gradient",
          "[cpu_fast][conv]") {
  // Dense 3×3 stride 1 and 2, a dilated one, the 3-channel stem: the direct path must take
  // them (else the tests above would only see im2col), its fused ReLU/ReLU6 must equal the
  // activation applied afterwards, bit for bit, and its input gradient im2col's.
  const std::vector<Case> cases = {{{1, 16, 37, 45}, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
                                   {{2, 32, 30, 22}, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
                                   {{1, 24, 29, 31}, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1, false},
                                   {{1, 3, 65, 97}, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, true}};
  for (const Case& t : cases) {
    INFO(describe(t));
    const Conv2dGeometry g = geometry_of(t);
    Generator gen(11);
    const auto values = [&](int64_t n) {
      return rand_uniform({n}, -1, 1, gen, DType::F32).to_vector<float>();
    };
    const std::vector<float> x = values(g.input_numel()), w = values(g.weight_numel());
    const std::vector<float> b = values(g.k);
    const float* bias = t.bias ? b.data() : nullptr;
    std::vector<float> plain(static_cast<size_t>(g.output_numel()));
    REQUIRE(cpu_fast::direct_conv_forward(plain.data(), x.data(), w.data(), bias, nullptr, g,
                                          ConvEpilogue::None));
    // The input gradient through the direct backward-data kernels, against im2col's.
    const std::vector<float> dy = values(g.output_numel());
    std::vector<float> dx_direct(static_cast<size_t>(g.input_numel()), -1.0f);
    std::vector<float> dx_im2col(dx_direct.size(), -1.0f);
    REQUIRE(cpu_fast::direct_conv_backward_input(dx_direct.data(), dy.data(), w.data(), g));
    cpu_fast::set_direct_conv_enabled(false);
    cpu_fast::conv2d_backward_input(dx_im2col.data(), dy.data(), w.data(), g);
    cpu_fast::set_direct_conv_enabled(true);
    const double bound = 1e-5 * std::sqrt(double(g.k * g.r * g.s));
    for (size_t i = 0; i < dx_direct.size(); ++i)
      REQUIRE(std::abs(dx_direct[i] - dx_im2col[i]) <= bound);
    for (ConvEpilogue e : {ConvEpilogue::Relu, ConvEpilogue::Relu6}) {
      std::vector<float> fused(plain.size());
      REQUIRE(cpu_fast::direct_conv_forward(fused.data(), x.data(), w.data(), bias, nullptr, g, e));
      for (size_t i = 0; i < plain.size(); ++i) REQUIRE(fused[i] == apply_epilogue(plain[i], e));
    }
    // The residual through the sum post-op: conv + bias, then + residual, then the activation
    // (the kernel may round the conv's sum in another order than without the post-op).
    const std::vector<float> residual = values(g.output_numel());
    for (ConvEpilogue e : {ConvEpilogue::None, ConvEpilogue::Relu}) {
      std::vector<float> joined(plain.size());
      REQUIRE(cpu_fast::direct_conv_forward(joined.data(), x.data(), w.data(), bias,
                                            residual.data(), g, e));
      for (size_t i = 0; i < plain.size(); ++i)
        REQUIRE(std::abs(joined[i] - apply_epilogue(plain[i] + residual[i], e)) <= bound);
    }
  }
}

TEST_CASE("fast conv2d kernels write every output and nothing around it", "[cpu_fast][conv]") {
  // Outputs sit between guard regions of a sentinel value and start out as NaN; afterwards the
  // guards are intact and no output is NaN.
  constexpr int64_t kGuard = 64;
  const float sentinel = 12345.0f;
  std::vector<Case> cases = generated_cases();
  for (const Case& t : cases) {
    INFO(describe(t));
    const Conv2dGeometry g = geometry_of(t);
    Generator gen(5);
    const auto values = [&](int64_t n) {
      return rand_uniform({n}, -1, 1, gen, DType::F32).to_vector<float>();
    };
    const std::vector<float> x = values(g.input_numel()), w = values(g.weight_numel());
    const std::vector<float> b = values(g.k), dy = values(g.output_numel());
    const auto guarded = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n + 2 * kGuard), sentinel);
      std::fill(v.begin() + kGuard, v.end() - kGuard, std::numeric_limits<float>::quiet_NaN());
      return v;
    };
    const auto check = [&](const std::vector<float>& v, const char* what) {
      INFO(what);
      for (int64_t i = 0; i < kGuard; ++i) {
        REQUIRE(v[static_cast<size_t>(i)] == sentinel);
        REQUIRE(v[v.size() - 1 - static_cast<size_t>(i)] == sentinel);
      }
      for (size_t i = kGuard; i + kGuard < v.size(); ++i) REQUIRE_FALSE(std::isnan(v[i]));
    };
    std::vector<float> y = guarded(g.output_numel()), dx = guarded(g.input_numel());
    std::vector<float> dw = guarded(g.weight_numel()), db = guarded(g.k);
    cpu_fast::conv2d_forward(y.data() + kGuard, x.data(), w.data(), b.data(), g);
    cpu_fast::conv2d_backward_input(dx.data() + kGuard, dy.data(), w.data(), g);
    cpu_fast::conv2d_backward_weight(dw.data() + kGuard, dy.data(), x.data(), g);
    cpu_fast::conv2d_backward_bias(db.data() + kGuard, dy.data(), g);
    check(y, "forward");
    check(dx, "input gradient");
    check(dw, "weight gradient");
    check(db, "bias gradient");
  }
}

TEST_CASE("fast conv2d gives the same bits for 1, 2 and 3 threads", "[cpu_fast][determinism]") {
  const int before = cpu_threads();
  std::vector<Case> cases = generated_cases();
  // Large enough planes that every algorithm cuts its work into several tasks.
  cases.push_back({{2, 32, 40, 56}, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, true});
  cases.push_back({{2, 64, 40, 56}, 64, 3, 3, 1, 1, 2, 2, 2, 2, 64, true});
  cases.push_back({{2, 64, 40, 56}, 96, 1, 1, 1, 1, 0, 0, 1, 1, 1, true});
  for (const Case& t : cases) {
    INFO(describe(t));
    set_cpu_threads(1);
    const Result one = run_conv(t, DType::F32, Backend::CpuFast, 9);
    for (int threads : {2, 3}) {
      set_cpu_threads(threads);
      const Result r = run_conv(t, DType::F32, Backend::CpuFast, 9);
      require_same_bits(r.y, one.y);
      require_same_bits(r.dx, one.dx);
      require_same_bits(r.dw, one.dw);
      if (t.bias) require_same_bits(r.db, one.db);
    }
  }
  set_cpu_threads(before);
}

TEST_CASE("a training step of each net gives the same bits for 1, 2 and 3 threads",
          "[cpu_fast][determinism][nets]") {
  // Forward in training mode (batch statistics), cross-entropy, backward: every parameter's
  // gradient and the loss must not depend on the thread count.
  const int before = cpu_threads();
  CpuBackendGuard fast(Backend::CpuFast);
  for (const char* name : {"cifrenet", "pidnet-s"}) {
    INFO(name);
    const auto step = [&](int threads) {
      set_cpu_threads(threads);
      NetOptions options;
      options.num_classes = 5;
      auto net = create_net(name, options);
      net->train();
      Generator gen(21);
      const Tensor x = rand_uniform({2, 3, 64, 96}, -1, 1, gen);
      const Tensor logits = net->forward(x);
      std::vector<int64_t> labels(static_cast<size_t>(2 * logits.size(2) * logits.size(3)));
      for (auto& l : labels) l = gen.randint(5);
      const Tensor target =
          Tensor::from_vector<int64_t>(labels, {2, logits.size(2), logits.size(3)});
      Tensor loss = cross_entropy(logits, target);
      loss.backward();
      std::vector<Tensor> out{loss.detach()};
      for (const Tensor& p : net->parameters()) out.push_back(p.grad());
      return out;
    };
    const std::vector<Tensor> one = step(1);
    for (int threads : {2, 3}) {
      const std::vector<Tensor> r = step(threads);
      REQUIRE(r.size() == one.size());
      for (size_t i = 0; i < r.size(); ++i) {
        INFO("tensor " << i << " with " << threads << " threads");
        require_same_bits(r[i], one[i]);
      }
    }
  }
  set_cpu_threads(before);
}

TEST_CASE("fast cross-entropy gives the reference's bits, every reduction, OHEM, any threads",
          "[cpu_fast][loss]") {
  // Odd pixel counts (blocks with a tail), ignored pixels, class weights; the loss and the
  // gradient of cross_entropy (none / mean / sum) and ohem_cross_entropy.
  const int before = cpu_threads();
  Generator gen(21);
  const Shape shape{2, 7, 23, 29};
  const Tensor logits = rand_uniform(shape, -4, 4, gen);
  std::vector<int64_t> labels(2 * 23 * 29);
  for (auto& l : labels) l = gen.randint(8) == 7 ? 255 : gen.randint(7);
  const Tensor target = Tensor::from_vector(labels, {2, 23, 29});
  const Tensor weights = rand_uniform({7}, 0.5, 2, gen);
  const Tensor seed = rand_uniform({2, 23, 29}, -1, 1, gen);
  const auto run = [&](Backend backend, int threads, int which) {
    CpuBackendGuard guard(backend);
    set_cpu_threads(threads);
    Tensor x = logits.detach();
    x.set_requires_grad(true);
    Tensor loss;
    if (which == 0) loss = cross_entropy(x, target, weights, 255, Reduction::None);
    if (which == 1) loss = cross_entropy(x, target, weights, 255, Reduction::Mean);
    if (which == 2) loss = cross_entropy(x, target, Tensor(), 255, Reduction::Sum);
    if (which == 3) loss = ohem_cross_entropy(x, target, 0.7, 200, weights);
    if (which == 0) {
      loss.backward(seed);
    } else {
      loss.backward();
    }
    return std::make_pair(loss.detach(), x.grad());
  };
  for (int which = 0; which < 4; ++which) {
    INFO("variant " << which);
    const auto reference = run(Backend::CpuReference, 1, which);
    for (int threads : {1, 2, 3}) {
      const auto fast = run(Backend::CpuFast, threads, which);
      require_same_bits(fast.first, reference.first);
      require_same_bits(fast.second, reference.second);
    }
  }
  set_cpu_threads(before);
}

TEST_CASE("fast batch_norm matches the float64 reference, training and eval", "[cpu_fast][bn]") {
  // Odd sizes, batch 1 and 2, a large mean (the two-pass variance's reason), per-channel layouts
  // N×C and N×C×H×W.
  const std::vector<std::pair<Shape, double>> cases = {
      {{2, 5, 7, 9}, 0.0}, {{1, 3, 17, 33}, 100.0}, {{4, 6}, 3.0}, {{2, 19, 45, 80}, -2.0}};
  for (const auto& [shape, offset] : cases) {
    for (bool training : {true, false}) {
      INFO(shape_str(shape) << " offset " << offset << (training ? " training" : " eval"));
      const int64_t c = shape[1];
      const auto run = [&](DType dtype, Backend backend) {
        CpuBackendGuard guard(backend);
        // Values drawn in float32, so both runs see the same inputs and differ by arithmetic only.
        Generator gen(13);
        const auto draw = [&](const Shape& sh, double lo, double hi) {
          return rand_uniform(sh, lo, hi, gen, DType::F32).to(dtype);
        };
        Tensor x = add_scalar(draw(shape, -1, 1).to(DType::F32), offset).to(dtype);
        Tensor w = draw({c}, 0.5, 1.5), b = draw({c}, -0.5, 0.5);
        Tensor rm = add_scalar(draw({c}, -0.1, 0.1).to(DType::F32), offset).to(dtype);
        Tensor rv = draw({c}, 0.5, 2);
        for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(true);
        Tensor y = batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5);
        y.backward(draw(shape, -1, 1));
        return std::vector<Tensor>{y, x.grad(), w.grad(), b.grad(), rm, rv};
      };
      const std::vector<Tensor> fast = run(DType::F32, Backend::CpuFast);
      const std::vector<Tensor> ref32 = run(DType::F32, Backend::CpuReference);
      const std::vector<Tensor> exact = run(DType::F64, Backend::CpuReference);
      const int64_t per_channel = fast[0].numel() / c;
      for (size_t i = 0; i < fast.size(); ++i) {
        // No further from float64 than the float32 reference (which stores the mean in float32
        // as well: at a mean of 100 that alone is an error of 4e-6), whose sums are in double:
        // dγ and dβ are small differences of many terms, where float sums would be 10x off.
        const double scale = std::sqrt(double(i == 2 || i == 3 ? per_channel : 16));
        const double e_fast = closeness(fast[i], exact[i], 1e-5, 2e-6 * scale);
        const double e_ref = closeness(ref32[i], exact[i], 1e-5, 2e-6 * scale);
        INFO("output " << i << ": fast " << e_fast << ", float32 reference " << e_ref);
        REQUIRE(e_fast <= 1.5 * e_ref + 0.05);
      }
    }
  }
}

TEST_CASE("float64 always runs on the reference backend", "[cpu_fast]") {
  CpuBackendGuard guard(Backend::CpuFast);
  REQUIRE(backend_for(Device::cpu(), DType::F64) == Backend::CpuReference);
  REQUIRE(backend_for(Device::cpu(), DType::F32) == Backend::CpuFast);
  REQUIRE(backend_for(Device::cuda(0), DType::F32) == Backend::Cuda);
  CpuBackendGuard reference(Backend::CpuReference);
  REQUIRE(backend_for(Device::cpu(), DType::F32) == Backend::CpuReference);
}

TEST_CASE("thread pool runs every task once and rethrows the first error", "[cpu_fast][pool]") {
  cpu_fast::ThreadPool pool(3);
  REQUIRE(pool.threads() == 3);
  std::vector<std::atomic<int>> seen(1000);
  pool.run(1000, [&](int64_t i) { seen[static_cast<size_t>(i)]++; });
  for (const auto& s : seen) REQUIRE(s.load() == 1);
  // Nested calls run inline on the task's thread.
  std::atomic<int64_t> inner{0};
  pool.run(8, [&](int64_t) { pool.run(10, [&](int64_t j) { inner += j; }); });
  REQUIRE(inner.load() == 8 * 45);
  REQUIRE_THROWS_WITH(pool.run(50,
                               [](int64_t i) {
                                 if (i == 17) fail("task {} failed", i);
                               }),
                      "task 17 failed");
  pool.run(4, [&](int64_t) {});  // usable after an error
  require_error([] { cpu_fast::ThreadPool bad(0); }, "need at least 1 thread");
  require_error([] { set_cpu_threads(0); }, "threads: must be from 1 to 1024");
}

TEST_CASE("host poisoning fills fresh tensors with NaN; zeros clears", "[cpu_fast][memory]") {
  REQUIRE(host_poison());                                   // tests/catch_main.cpp turns it on
  for (const Shape& shape : {Shape{7}, Shape{300, 400}}) {  // malloc'd and cached sizes
    const Tensor e = Tensor::empty(shape, DType::F32);
    for (double v : e.to_doubles()) REQUIRE(std::isnan(v));
    const Tensor z = Tensor::zeros(shape, DType::F32);
    for (double v : z.to_doubles()) REQUIRE(v == 0.0);
  }
  // A released large block is cached and handed out again.
  host_empty_cache();
  const HostCacheStats before = host_cache_stats();
  { Tensor big = Tensor::empty({1 << 20}, DType::F32); }
  REQUIRE(host_cache_stats().cached_bytes >= (size_t{4} << 20));
  { Tensor again = Tensor::empty({1 << 20}, DType::F32); }
  REQUIRE(host_cache_stats().hits == before.hits + 1);
  host_empty_cache();
  REQUIRE(host_cache_stats().cached_bytes == 0);
}
