// conv2d: hand-checked cases, agreement with an independent direct sum over many geometries,
// float32 vs float64, the kernels' writes (poisoned outputs, guard regions), gradients by finite
// differences, and rejection of bad input.
#include <algorithm>
#include <limits>

#include "core/cuda_runtime.h"
#include "kernels/cpu/conv2d.h"
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

Conv2dParams params_of(const ConvCase& t) {
  Conv2dParams p;
  p.stride = t.stride;
  p.padding = t.padding;
  p.dilation = t.dilation;
  p.groups = t.groups;
  return p;
}

// The textbook definition, written independently of the kernels: for every output element, a
// direct sum over the channels of its group and the kernel taps, skipping taps in the padding.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvCase& t) {
  const std::vector<double> xv = x.to_doubles(), wv = w.to_doubles();
  const std::vector<double> bv = b.defined() ? b.to_doubles() : std::vector<double>(t.k, 0.0);
  const int64_t oh = (t.h + 2 * t.padding[0] - t.dilation[0] * (t.r - 1) - 1) / t.stride[0] + 1;
  const int64_t ow = (t.w + 2 * t.padding[1] - t.dilation[1] * (t.s - 1) - 1) / t.stride[1] + 1;
  const int64_t cg = t.c / t.groups, kg = t.k / t.groups;
  std::vector<double> y(t.n * t.k * oh * ow);
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t k = 0; k < t.k; ++k)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bv[k];
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t r = 0; r < t.r; ++r)
              for (int64_t s = 0; s < t.s; ++s) {
                const int64_t c = (k / kg) * cg + ci;
                const int64_t y_in = i * t.stride[0] - t.padding[0] + r * t.dilation[0];
                const int64_t x_in = j * t.stride[1] - t.padding[1] + s * t.dilation[1];
                if (y_in < 0 || y_in >= t.h || x_in < 0 || x_in >= t.w) continue;
                acc += xv[((n * t.c + c) * t.h + y_in) * t.w + x_in] *
                       wv[((k * cg + ci) * t.r + r) * t.s + s];
              }
          y[((n * t.k + k) * oh + i) * ow + j] = acc;
        }
  return Tensor::from_doubles(y, {t.n, t.k, oh, ow}, DType::F64);
}

struct ConvInputs {
  Tensor x, w, b;
};

ConvInputs random_conv_inputs(const ConvCase& t, Generator& gen, DType dtype = DType::F64) {
  ConvInputs in;
  in.x = random_input({t.n, t.c, t.h, t.w}, gen, -1.0, 1.0, dtype);
  in.w = random_input({t.k, t.c / t.groups, t.r, t.s}, gen, -1.0, 1.0, dtype);
  if (t.bias) in.b = random_input({t.k}, gen, -1.0, 1.0, dtype);
  return in;
}

// Every combination the nets use, on odd sizes: batch 1/2 × stride 1/2 × dilation 1/2/3 ×
// groups 1/4/C, with K = C or K = 2C (a depth multiplier when groups = C), bias on and off.
std::vector<ConvCase> generated_cases() {
  std::vector<ConvCase> cases;
  const int64_t c = 8;
  int variant = 0;
  for (int64_t n : {1, 2})
    for (int64_t stride : {1, 2})
      for (int64_t dil : {1, 2, 3})
        for (int64_t groups : {int64_t{1}, int64_t{4}, c}) {
          const int64_t k = variant % 2 == 0 ? c : 2 * c;
          const bool bias = variant % 3 != 0;
          // Padding = dilation keeps 3×3 outputs "same"-sized at stride 1; every third case
          // uses less padding so the floor in the output size matters.
          const int64_t pad = variant % 3 == 2 ? dil - 1 : dil;
          cases.push_back(
              {n, c, 7, 9, k, 3, 3, {stride, stride}, {pad, pad}, {dil, dil}, groups, bias});
          ++variant;
        }
  return cases;
}

// Hand-picked corners the generator does not reach.
const std::vector<ConvCase> kSpecialCases = {
    {1, 4, 8, 11, 4, 1, 5, {1, 2}, {0, 2}, {1, 1}, 1, true},        // non-square kernel, stride
    {2, 5, 7, 9, 3, 5, 3, {2, 1}, {2, 1}, {1, 2}, 1, true},         // non-square everything
    {1, 32, 7, 9, 16, 3, 3, {1, 1}, {1, 1}, {1, 1}, 16, true},      // groups 16, 2 in / 1 out
    {1, 16, 7, 7, 16, 3, 3, {1, 1}, {23, 23}, {23, 23}, 16, true},  // outer taps all in padding
    {1, 4, 25, 27, 4, 3, 3, {1, 1}, {23, 23}, {23, 23}, 4, false},  // dilation 23, taps inside
    {1, 4, 13, 15, 8, 3, 3, {2, 2}, {12, 12}, {12, 12}, 4, true},   // dilation 12, stride 2
    {1, 3, 8, 8, 4, 3, 3, {2, 2}, {0, 0}, {1, 1}, 1, false},        // floor: (8−3)/2 + 1 = 3
    {2, 7, 5, 3, 9, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, true},         // pointwise 1×1
    {1, 3, 4, 4, 2, 4, 4, {1, 1}, {0, 0}, {1, 1}, 1, true},         // kernel = input: 1×1 output
    {1, 6, 9, 7, 18, 3, 3, {2, 1}, {1, 3}, {1, 3}, 6, false},       // depth multiplier 3, mixed
};

}  // namespace

TEST_CASE("conv2d hand-checked: 3×3 input, 2×2 kernel, with and without bias", "[conv]") {
  // x = 1..9 row by row; w = [[1, 2], [3, 4]] (cross-correlation, no flip as in PyTorch):
  // y00 = 1·1 + 2·2 + 4·3 + 5·4 = 37, y01 = 2 + 6 + 15 + 24 = 47,
  // y10 = 4 + 10 + 21 + 32 = 67, y11 = 5 + 12 + 24 + 36 = 77.
  Tensor x = Tensor::from_doubles({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_doubles({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = conv2d(x, w);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  require_values(y, {37, 47, 67, 77});
  require_values(conv2d(x, w, Tensor::from_doubles({0.5}, {1})), {37.5, 47.5, 67.5, 77.5});
}

TEST_CASE("conv2d hand-checked: dilation 2", "[conv]") {
  // x[i][j] = 5i + j on 5×5; a 2×2 kernel of ones dilated by 2 sums x at (i, j), (i, j+2),
  // (i+2, j), (i+2, j+2): 4(5i + j) + 2 + 10 + 12 = 20i + 4j + 24, for a 3×3 output.
  std::vector<double> v(25);
  for (int i = 0; i < 25; ++i) v[i] = i;
  Tensor x = Tensor::from_doubles(v, {1, 1, 5, 5});
  Tensor y = conv2d(x, Tensor::ones({1, 1, 2, 2}), Tensor(), 1, 0, 2);
  REQUIRE(y.shape() == Shape{1, 1, 3, 3});
  require_values(y, {24, 28, 32, 44, 48, 52, 64, 68, 72});
}

TEST_CASE("conv2d hand-checked: stride 2 with zero padding 1", "[conv]") {
  // x = 0..15 on 4×4, 3×3 ones, stride 2, pad 1: output floor((4 + 2 − 3) / 2) + 1 = 2.
  // Window centres (0,0), (0,2), (2,0), (2,2); padding adds nothing:
  // 0+1+4+5 = 10, 1+2+3+5+6+7 = 24, 4+5+8+9+12+13 = 51, 5+6+7+9+10+11+13+14+15 = 90.
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i;
  Tensor x = Tensor::from_doubles(v, {1, 1, 4, 4});
  Tensor y = conv2d(x, Tensor::ones({1, 1, 3, 3}), Tensor(), 2, 1);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  require_values(y, {10, 24, 51, 90});
}

TEST_CASE("conv2d hand-checked: groups and a depth multiplier", "[conv]") {
  // Two groups of two channels: k0 sees channels 0-1 with weights (1, 10), k1 sees channels 2-3
  // with weights (100, 1000): 1 + 20 = 21 and 300 + 4000 = 4300.
  Tensor x = Tensor::from_doubles({1, 2, 3, 4}, {1, 4, 1, 1});
  Tensor w = Tensor::from_doubles({1, 10, 100, 1000}, {2, 2, 1, 1});
  require_values(conv2d(x, w, Tensor(), 1, 0, 1, 2), {21, 4300});
  // Depthwise with K = 2C: output channels 2c and 2c+1 both read input channel c (PyTorch's
  // ordering), here with scales 1, 2 (channel 0) and 3, 4 (channel 1).
  Tensor xd = Tensor::from_doubles({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor wd = Tensor::from_doubles({1, 2, 3, 4}, {4, 1, 1, 1});
  Tensor yd = conv2d(xd, wd, Tensor::from_doubles({0, 0, 0, 1}, {4}), 1, 0, 1, 2);
  REQUIRE(yd.shape() == Shape{1, 4, 2, 2});
  require_values(yd, {1, 2, 3, 4, 2, 4, 6, 8, 15, 18, 21, 24, 21, 25, 29, 33});
}

TEST_CASE("conv2d output size follows PyTorch's floor formula", "[conv]") {
  // (H + 2p − d(R−1) − 1) / s + 1 with floor: 7×9, 3×3, stride 2, pad 0 -> 3×4; with
  // dilation 3 and pad 1 -> (7 + 2 − 6 − 1)/2 + 1 = 2 and (9 + 2 − 6 − 1)/2 + 1 = 3.
  Tensor x = Tensor::zeros({1, 1, 7, 9});
  Tensor w = Tensor::zeros({1, 1, 3, 3});
  REQUIRE(conv2d(x, w, Tensor(), 2).shape() == Shape{1, 1, 3, 4});
  REQUIRE(conv2d(x, w, Tensor(), 2, 1, 3).shape() == Shape{1, 1, 2, 3});
  REQUIRE(conv_output_size(7, 3, 2, 1, 3) == 2);
  REQUIRE(conv_output_size(2, 3, 1, 0, 1) <= 0);  // a kernel larger than the input
}

TEST_CASE("conv2d matches a direct sum over generated and special geometries", "[conv]") {
  Generator gen(11);
  std::vector<ConvCase> cases = generated_cases();
  cases.insert(cases.end(), kSpecialCases.begin(), kSpecialCases.end());
  for (const ConvCase& t : cases) {
    INFO(describe(t));
    const ConvInputs in = random_conv_inputs(t, gen);
    const Tensor expected = naive_conv2d(in.x, in.w, in.b, t);
    const Tensor y64 = conv2d(in.x, in.w, in.b, params_of(t));
    require_close(y64, expected, 1e-12, 1e-12);
    // float32 from the same values: only rounding separates it from float64.
    const Tensor y32 = conv2d(in.x.to(DType::F32), in.w.to(DType::F32),
                              in.b.defined() ? in.b.to(DType::F32) : Tensor(), params_of(t));
    REQUIRE(y32.dtype() == DType::F32);
    require_close(y32, y64, 1e-5, 1e-5);
  }
}

TEST_CASE("conv2d reads non-contiguous views", "[conv]") {
  Generator gen(5);
  Tensor big = rand_uniform({2, 6, 9, 13}, -1, 1, gen, DType::F64);
  Tensor x = narrow(narrow(big, 3, 2, 9), 1, 1, 4);  // 2×4×9×9, strided in W and C
  REQUIRE_FALSE(x.is_contiguous());
  Tensor wbig = rand_uniform({3, 4, 3, 5}, -1, 1, gen, DType::F64);
  Tensor w = narrow(wbig, 3, 1, 3);  // 3×4×3×3
  REQUIRE_FALSE(w.is_contiguous());
  require_close(conv2d(x, w, Tensor(), 2, 1, 2), conv2d(x.clone(), w.clone(), Tensor(), 2, 1, 2), 0,
                0);
}

TEST_CASE("conv2d CPU kernels overwrite every output and nothing else", "[conv][kernels]") {
  // ggml's sentinels: outputs poisoned with NaN, guard regions on both sides of every buffer.
  const ConvCase t{2, 6, 7, 9, 12, 3, 2, {2, 1}, {1, 1}, {2, 1}, 3, true};
  Generator gen(3);
  const ConvInputs in = random_conv_inputs(t, gen);
  const Tensor expected = naive_conv2d(in.x, in.w, in.b, t);
  Conv2dGeometry g;
  g.n = t.n, g.c = t.c, g.h = t.h, g.w = t.w, g.k = t.k, g.r = t.r, g.s = t.s;
  g.stride_h = t.stride[0], g.stride_w = t.stride[1], g.pad_h = t.padding[0],
  g.pad_w = t.padding[1];
  g.dil_h = t.dilation[0], g.dil_w = t.dilation[1], g.groups = t.groups;
  g.oh = conv_output_size(g.h, g.r, g.stride_h, g.pad_h, g.dil_h);
  g.ow = conv_output_size(g.w, g.s, g.stride_w, g.pad_w, g.dil_w);
  REQUIRE(g.output_numel() == expected.numel());

  const int64_t guard = 64;
  const double sentinel = 12345.0, poison = std::numeric_limits<double>::quiet_NaN();
  auto guarded = [&](int64_t n) {
    std::vector<double> buf(n + 2 * guard, sentinel);
    std::fill(buf.begin() + guard, buf.end() - guard, poison);
    return buf;
  };
  auto guards_intact = [&](const std::vector<double>& buf) {
    for (int64_t i = 0; i < guard; ++i) {
      if (buf[i] != sentinel || buf[buf.size() - 1 - i] != sentinel) return false;
    }
    return true;
  };
  auto no_nan = [&](const std::vector<double>& buf) {
    for (size_t i = guard; i < buf.size() - guard; ++i) {
      if (std::isnan(buf[i])) return false;
    }
    return true;
  };
  const std::vector<double> x = in.x.to_doubles(), w = in.w.to_doubles(), b = in.b.to_doubles();
  std::vector<double> y = guarded(g.output_numel());
  cpu::conv2d_forward(y.data() + guard, x.data(), w.data(), b.data(), g);
  REQUIRE(guards_intact(y));
  std::vector<double> y_inner(y.begin() + guard, y.end() - guard);
  require_close(Tensor::from_doubles(y_inner, expected.shape(), DType::F64), expected, 1e-12,
                1e-12);

  std::vector<double> dy(g.output_numel(), 0.5);
  std::vector<double> dx = guarded(g.input_numel()), dw = guarded(g.weight_numel()),
                      db = guarded(g.k);
  cpu::conv2d_backward_input(dx.data() + guard, dy.data(), w.data(), g);
  cpu::conv2d_backward_weight(dw.data() + guard, dy.data(), x.data(), g);
  cpu::conv2d_backward_bias(db.data() + guard, dy.data(), g);
  for (const auto* buf : {&dx, &dw, &db}) {
    REQUIRE(guards_intact(*buf));
    REQUIRE(no_nan(*buf));
  }
  // Each bias gradient is 0.5 summed over N·OH·OW positions.
  for (int64_t k = 0; k < g.k; ++k) REQUIRE(db[guard + k] == Approx(0.5 * g.n * g.oh * g.ow));
}

TEST_CASE("conv2d gradients match finite differences", "[conv][grad]") {
  const std::vector<ConvCase> cases = {
      {1, 3, 7, 9, 4, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1, true},   // stride 2, odd sizes
      {2, 2, 7, 6, 3, 3, 3, {1, 1}, {2, 2}, {2, 2}, 1, true},   // dilation 2, batch 2
      {1, 8, 7, 5, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, true},   // groups 4
      {1, 4, 7, 9, 4, 3, 3, {1, 1}, {3, 3}, {3, 3}, 4, false},  // depthwise, dilation 3
      {2, 3, 5, 7, 6, 3, 3, {2, 2}, {1, 1}, {1, 1}, 3, true},   // depthwise K = 2C, stride 2
      {1, 2, 6, 9, 3, 2, 5, {2, 1}, {0, 2}, {1, 2}, 1, true},   // non-square kernel and params
      {1, 3, 5, 5, 2, 1, 1, {2, 2}, {0, 0}, {1, 1}, 1, false},  // 1×1 stride 2 (skips inputs)
  };
  Generator gen(21);
  for (const ConvCase& t : cases) {
    INFO(describe(t));
    const ConvInputs in = random_conv_inputs(t, gen);
    const Conv2dParams p = params_of(t);
    gradcheck([&](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], v[2], p); },
              {in.x, in.w, in.b});
  }
}

TEST_CASE("conv2d gradients through a non-contiguous input view", "[conv][grad]") {
  Generator gen(4);
  Tensor big = random_input({1, 3, 6, 9}, gen);
  Tensor w = random_input({2, 3, 3, 3}, gen);
  gradcheck(
      [](const std::vector<Tensor>& v) {
        return conv2d(narrow(v[0], 3, 1, 7), v[1], Tensor(), 1, 1);
      },
      {big, w});
}

TEST_CASE("conv2d computes only the gradients that are needed", "[conv][grad]") {
  Generator gen(9);
  Tensor x = rand_uniform({1, 2, 5, 5}, -1, 1, gen, DType::F64);
  Tensor w = rand_uniform({3, 2, 3, 3}, -1, 1, gen, DType::F64);
  Tensor b = rand_uniform({3}, -1, 1, gen, DType::F64);
  SECTION("bias only") {
    b.set_requires_grad(true);
    sum(conv2d(x, w, b)).backward();
    require_values(b.grad(), {9, 9, 9});  // 3×3 output positions, each with gradient 1
    REQUIRE_FALSE(x.grad().defined());
    REQUIRE_FALSE(w.grad().defined());
  }
  SECTION("weight only, as for a first layer fed an image") {
    w.set_requires_grad(true);
    sum(conv2d(x, w, b, 2, 1)).backward();
    REQUIRE_FALSE(x.grad().defined());
    // With dy = 1 everywhere, dw[k, c, r, s] is the sum of the input values tap (r, s) reads.
    const std::vector<double> xv = x.to_doubles(), dw = w.grad().to_doubles();
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t s = 0; s < 3; ++s) {
          double expected = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t yy = 2 * i - 1 + r, xx = 2 * j - 1 + s;
              if (yy >= 0 && yy < 5 && xx >= 0 && xx < 5) expected += xv[(c * 5 + yy) * 5 + xx];
            }
          for (int64_t k = 0; k < 3; ++k)
            REQUIRE(dw[((k * 2 + c) * 3 + r) * 3 + s] == Approx(expected));
        }
  }
  SECTION("input only") {
    x.set_requires_grad(true);
    sum(conv2d(x, w, b, 1, 1)).backward();
    REQUIRE(x.grad().shape() == x.shape());
    REQUIRE_FALSE(w.grad().defined());
  }
  SECTION("no input requires grad: no history") { REQUIRE_FALSE(conv2d(x, w, b).requires_grad()); }
}

TEST_CASE("conv2d float32 gradients agree with float64", "[conv][grad]") {
  const ConvCase t{2, 8, 7, 9, 16, 3, 3, {2, 2}, {2, 2}, {2, 2}, 4, true};
  Generator gen(8);
  ConvInputs in64 = random_conv_inputs(t, gen);
  ConvInputs in32{in64.x.to(DType::F32), in64.w.to(DType::F32), in64.b.to(DType::F32)};
  for (ConvInputs* in : {&in64, &in32}) {
    for (Tensor v : {in->x, in->w, in->b}) v.set_requires_grad(true);
    Tensor y = conv2d(in->x, in->w, in->b, params_of(t));
    y.backward(Tensor::ones(y.shape(), y.dtype()));
  }
  require_close(in32.x.grad(), in64.x.grad(), 1e-5, 1e-5);
  require_close(in32.w.grad(), in64.w.grad(), 1e-5, 1e-5);
  require_close(in32.b.grad(), in64.b.grad(), 1e-5, 1e-5);
}

TEST_CASE("conv2d rejects bad input with the op's name and the shapes", "[conv][errors]") {
  Tensor x = Tensor::zeros({2, 8, 7, 9});
  Tensor w = Tensor::zeros({4, 8, 3, 3});
  Tensor b = Tensor::zeros({4});
  require_error(
      [&] {
        conv2d(Tensor::zeros({8, 7, 9}), w);
      },
      "conv2d: input must have 4 dimensions");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({4, 8, 3}));
      },
      "conv2d: weight must have 4 dimensions");
  require_error(
      [&] {
        conv2d(x, w, Tensor::zeros({1, 4}));
      },
      "conv2d: bias must have 1 dimensions");
  require_error([&] { conv2d(Tensor(), w); }, "conv2d: input is an undefined tensor");
  require_error([&] { conv2d(x, Tensor()); }, "conv2d: weight is an undefined tensor");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), 1, 0, 1, 3);
      },
      "conv2d: input has 8 channels, not divisible by groups 3 (input float32[2, 8, 7, 9]");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({6, 2, 3, 3}), Tensor(), 1, 0, 1, 4);
      },
      "conv2d: weight has 6 output channels, not divisible by groups 4");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({4, 4, 3, 3}));
      },
      "conv2d: weight has 4 input channels per group but input has 8 channels in 1 group(s)");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({4, 8, 3, 3}), Tensor(), 1, 0, 1, 4);
      },
      "weight float32[4, 8, 3, 3]");
  require_error([&] { conv2d(x, w, Tensor::zeros({5})); },
                "conv2d: bias has 5 elements but weight has 4 output channels");
  require_error(
      [&] {
        conv2d(x, Tensor::zeros({4, 8, 9, 3}));
      },
      "conv2d: input is too small for the kernel: output would be 0×7");
  require_error([&] { conv2d(x, w, Tensor(), 1, 0, 4); },  // dilated extent 9 > 7
                "conv2d: input is too small for the kernel");
  require_error([&] { conv2d(x, w, Tensor(), 0); }, "conv2d: stride must be positive, got (0, 0)");
  require_error([&] { conv2d(x, w, Tensor(), 1, 0, 0); }, "conv2d: dilation must be positive");
  require_error([&] { conv2d(x, w, Tensor(), 1, -1); },
                "conv2d: padding must be non-negative, got (-1, -1)");
  require_error([&] { conv2d(x, w, Tensor(), 1, 0, 1, 0); }, "conv2d: groups must be positive");
  Conv2dParams p;
  p.stride = {1, -2};
  require_error([&] { conv2d(x, w, b, p); }, "conv2d: stride must be positive, got (1, -2)");
  require_error([&] { conv2d(x, w.to(DType::F64)); },
                "conv2d: input is float32[2, 8, 7, 9] cpu but weight is float64[4, 8, 3, 3] cpu");
  require_error([&] { conv2d(x, w, b.to(DType::F64)); },
                "conv2d: input is float32[2, 8, 7, 9] cpu but bias is float64");
  require_error([&] { conv2d(x.to(DType::I64), w); }, "conv2d: input must be float32 or float64");
  if (cuda_available()) {
    require_error([&] { conv2d(x, w.to(Device::cuda(0))); },
                  "conv2d: input is on cpu but weight is on cuda:0");
  }
}
