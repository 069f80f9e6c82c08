// Pooling: PyTorch's output sizes and average divisors (ceil mode, count_include_pad), max
// pooling's −inf padding and tie rule, adaptive windows, channel max/mean; naive comparisons,
// finite-difference gradients, bad input.
#include <cmath>
#include <limits>

#include "kernels/pool_geometry.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

Pool2dParams params(int64_t k, int64_t s, int64_t p, bool ceil_mode = false,
                    bool count_include_pad = true) {
  Pool2dParams out;
  out.kernel = {k, k};
  out.stride = {s, s};
  out.padding = {p, p};
  out.ceil_mode = ceil_mode;
  out.count_include_pad = count_include_pad;
  return out;
}

Tensor iota(const Shape& shape, double start = 0.0, DType dtype = DType::F32) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<double>(i);
  return Tensor::from_doubles(v, shape, dtype);
}

// Output length by counting windows, the definition PyTorch's formula implements: floor mode
// keeps windows that lie inside the padded input; ceil mode also keeps a window that hangs past
// it (the previous one stopped short of the end) as long as it starts inside the input or the
// left padding.
int64_t count_windows(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  int64_t n = 0;
  for (int64_t o = 0;; ++o) {
    const int64_t start = o * s - p;
    const bool keep =
        ceil_mode ? (o == 0 || start - s + k < in + p) && start < in : start + k <= in + p;
    if (!keep) break;
    ++n;
  }
  return n;
}

// Average pooling written differently from the kernel: the input is placed on a canvas that
// marks every cell as real, padding (within `pad` of the input) or beyond (ceil mode's
// overhang); the divisor counts real + padding cells, or only real ones.
std::vector<double> naive_avg_pool(const Tensor& x, const Pool2dParams& p, int64_t out_h,
                                   int64_t out_w) {
  const std::vector<double> v = x.to_doubles();
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  std::vector<double> out;
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow) {
        double acc = 0.0;
        int64_t real = 0, padded = 0;
        for (int64_t i = 0; i < p.kernel[0]; ++i) {
          for (int64_t j = 0; j < p.kernel[1]; ++j) {
            const int64_t r = oh * p.stride[0] - p.padding[0] + i;
            const int64_t c = ow * p.stride[1] - p.padding[1] + j;
            const bool in_padded = r < h + p.padding[0] && c < w + p.padding[1];
            const bool in_real = r >= 0 && c >= 0 && r < h && c < w;
            if (in_padded) ++padded;
            if (in_real) {
              ++real;
              acc += v[static_cast<size_t>((pl * h + r) * w + c)];
            }
          }
        }
        out.push_back(acc / static_cast<double>(p.count_include_pad ? padded : real));
      }
    }
  }
  return out;
}

Tensor pool_f(const std::vector<Tensor>& t, bool is_max, const Pool2dParams& p) {
  return is_max ? max_pool2d(t[0], p) : avg_pool2d(t[0], p);
}

}  // namespace

TEST_CASE("pool_output_size matches window counting, including ceil mode's last-window rule",
          "[pool]") {
  for (int64_t in = 1; in <= 12; ++in) {
    for (int64_t k = 1; k <= 6; ++k) {
      for (int64_t s = 1; s <= 4; ++s) {
        for (int64_t p = 0; p <= k / 2; ++p) {
          if (in + 2 * p < k) continue;
          for (bool ceil_mode : {false, true}) {
            INFO("in " << in << " k " << k << " s " << s << " p " << p << " ceil " << ceil_mode);
            REQUIRE(pool_output_size(in, k, s, p, ceil_mode) ==
                    count_windows(in, k, s, p, ceil_mode));
          }
        }
      }
    }
  }
  // Worked out by hand: ceil mode rounds 5→3 up; for in 3, k 2, s 2, p 1 the rounded-up third
  // window would start at 3 = in + pad, so it is dropped (PyTorch gives 2).
  REQUIRE(pool_output_size(5, 2, 2, 0, false) == 2);
  REQUIRE(pool_output_size(5, 2, 2, 0, true) == 3);
  REQUIRE(pool_output_size(3, 2, 2, 1, true) == 2);
  REQUIRE(pool_output_size(1, 3, 1, 0, false) == 0);
  REQUIRE(max_pool2d(Tensor::zeros({1, 1, 3, 3}), params(2, 2, 1, true)).shape() ==
          Shape{1, 1, 2, 2});
}

TEST_CASE("avg_pool2d: hand-checked windows, divisors with and without padding", "[pool]") {
  // 4×4 of 0..15, 2×2 windows: means of {0,1,4,5}, {2,3,6,7}, {8,9,12,13}, {10,11,14,15}.
  require_values(avg_pool2d(iota({1, 1, 4, 4}), params(2, 2, 0)), {2.5, 4.5, 10.5, 12.5});
  // 3×3 of 1..9, kernel 3, stride 1, padding 1: window sums 12 21 16 / 27 45 33 / 24 39 28,
  // divided by 9 with count_include_pad, else by the 4, 6 or 9 real cells.
  Tensor x = iota({1, 1, 3, 3}, 1.0);
  require_values(avg_pool2d(x, params(3, 1, 1, false, true)),
                 {12 / 9., 21 / 9., 16 / 9., 27 / 9., 5, 33 / 9., 24 / 9., 39 / 9., 28 / 9.});
  require_values(avg_pool2d(x, params(3, 1, 1, false, false)), {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
}

TEST_CASE("avg_pool2d: ceil mode's clipped last window has PyTorch's divisor", "[pool]") {
  // 4×4 of 1..16, kernel 3, stride 2, padding 1, ceil: windows over rows [-1,2), [1,4), [3,6).
  // The last one is clipped to the padded input [3,5) (2 rows, one of them padding) and then
  // to the input [3,4). With count_include_pad the divisor is the padded-clipped area (3·3, 3·2,
  // 2·2), otherwise the real area. Sums by hand: 14 30 12 / 57 99 36 / 27 45 16.
  Tensor x = iota({1, 1, 4, 4}, 1.0);
  require_values(avg_pool2d(x, params(3, 2, 1, true, true)),
                 {14 / 9., 30 / 9., 12 / 6., 57 / 9., 99 / 9., 36 / 6., 27 / 6., 45 / 6., 16 / 4.});
  require_values(avg_pool2d(x, params(3, 2, 1, true, false)),
                 {14 / 4., 30 / 6., 12 / 2., 57 / 6., 99 / 9., 36 / 3., 27 / 2., 45 / 3., 16 / 1.});
  // Without padding the overhang is not counted either: 5×5 of 0..24, kernel 2, stride 2, ceil:
  // the last column window holds {4, 9} → 6.5 and the corner holds {24} alone.
  Tensor y = avg_pool2d(iota({1, 1, 5, 5}), params(2, 2, 0, true, true));
  REQUIRE(y.shape() == Shape{1, 1, 3, 3});
  require_values(y, {3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24});
}

TEST_CASE("avg_pool2d matches the naive formula on odd shapes, PIDNet's pools included", "[pool]") {
  Generator gen(11);
  struct Case {
    Shape shape;
    Pool2dParams p;
  };
  std::vector<Case> cases = {
      // PIDNet's DAPPM pools: kernel 5/9/17, stride 2/4/8, padding 2/4/8, count_include_pad.
      {{2, 3, 33, 47}, params(5, 2, 2)},
      {{2, 3, 33, 47}, params(9, 4, 4)},
      {{1, 2, 37, 29}, params(17, 8, 8)},
      {{1, 2, 16, 32}, params(17, 8, 8)},
  };
  for (bool ceil_mode : {false, true}) {
    for (bool include : {false, true}) {
      cases.push_back({{2, 3, 11, 13}, params(3, 2, 1, ceil_mode, include)});
      cases.push_back({{1, 2, 10, 7}, params(4, 3, 2, ceil_mode, include)});
      cases.push_back({{1, 1, 9, 9}, params(2, 2, 1, ceil_mode, include)});
    }
  }
  Pool2dParams rect = params(3, 2, 1, true, false);
  rect.kernel = {3, 5};
  rect.stride = {2, 3};
  rect.padding = {1, 2};
  cases.push_back({{2, 2, 12, 17}, rect});
  for (const Case& c : cases) {
    INFO(shape_str(c.shape) << " kernel " << c.p.kernel[0] << "×" << c.p.kernel[1] << " stride "
                            << c.p.stride[0] << " pad " << c.p.padding[0] << " ceil "
                            << c.p.ceil_mode << " include_pad " << c.p.count_include_pad);
    Tensor x = rand_uniform(c.shape, -2.0, 2.0, gen);
    Tensor y = avg_pool2d(x, c.p);
    const int64_t oh =
        count_windows(c.shape[2], c.p.kernel[0], c.p.stride[0], c.p.padding[0], c.p.ceil_mode);
    const int64_t ow =
        count_windows(c.shape[3], c.p.kernel[1], c.p.stride[1], c.p.padding[1], c.p.ceil_mode);
    REQUIRE(y.shape() == Shape{c.shape[0], c.shape[1], oh, ow});
    require_values(y, naive_avg_pool(x, c.p, oh, ow), 1e-5);
  }
}

TEST_CASE("max_pool2d: padding acts as −inf, hand-checked values", "[pool]") {
  require_values(max_pool2d(iota({1, 1, 4, 4}), params(2, 2, 0)), {5, 7, 13, 15});
  // −(1..16), kernel 3, stride 2, padding 1: windows rows/cols [0,2) and [1,4). Zero padding
  // would give 0 in every window; −inf padding gives the real maxima.
  Tensor neg = iota({1, 1, 4, 4}, 1.0) * -1.0;
  require_values(max_pool2d(neg, params(3, 2, 1)), {-1, -2, -5, -6});
  require_values(max_pool2d(iota({1, 1, 4, 4}, 1.0), params(3, 2, 1)), {6, 8, 14, 16});
  // Ceil mode: 5×5 of 0..24, kernel 2, stride 2 → the clipped windows hold 9, 19, 24 last.
  require_values(max_pool2d(iota({1, 1, 5, 5}), params(2, 2, 0, true)),
                 {6, 8, 9, 16, 18, 19, 21, 23, 24});
}

TEST_CASE("max_pool2d and channel_max send ties' gradient to the first maximum", "[pool][grad]") {
  Tensor x = Tensor::from_doubles({0, 3, 3, 1, 2, 2, 2, 2}, {1, 2, 2, 2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = max_pool2d(x, params(2, 2, 0));
  require_values(y, {3, 2});
  y.backward(Tensor::from_doubles({1, 10}, {1, 2, 1, 1}, DType::F64));
  require_values(x.grad(), {0, 1, 0, 0, 10, 0, 0, 0});

  // Channels of 1×3×1×3: position 0 ties channels 0 and 1, position 1 has all three equal,
  // position 2's maximum is channel 2.
  Tensor c = Tensor::from_doubles({4, 7, 0, 4, 7, 1, 2, 7, 5}, {1, 3, 1, 3}, DType::F64);
  c.set_requires_grad(true);
  Tensor m = channel_max(c);
  REQUIRE(m.shape() == Shape{1, 1, 1, 3});
  require_values(m, {4, 7, 5});
  m.backward(Tensor::from_doubles({1, 2, 3}, {1, 1, 1, 3}, DType::F64));
  require_values(c.grad(), {1, 2, 0, 0, 0, 0, 0, 0, 3});
}

TEST_CASE("max_pool2d matches a naive window maximum on odd shapes", "[pool]") {
  Generator gen(12);
  for (bool ceil_mode : {false, true}) {
    for (const Pool2dParams& p : {params(3, 2, 1, ceil_mode), params(5, 2, 2, ceil_mode),
                                  params(2, 2, 1, ceil_mode), params(3, 3, 0, ceil_mode)}) {
      Tensor x = rand_uniform({2, 3, 11, 8}, -2.0, 2.0, gen);
      Tensor y = max_pool2d(x, p);
      const std::vector<double> v = x.to_doubles();
      std::vector<double> expected;
      for (int64_t pl = 0; pl < 6; ++pl) {
        for (int64_t oh = 0; oh < y.size(2); ++oh) {
          for (int64_t ow = 0; ow < y.size(3); ++ow) {
            double best = -std::numeric_limits<double>::infinity();
            for (int64_t i = 0; i < p.kernel[0]; ++i) {
              for (int64_t j = 0; j < p.kernel[1]; ++j) {
                const int64_t r = oh * p.stride[0] - p.padding[0] + i;
                const int64_t col = ow * p.stride[1] - p.padding[1] + j;
                if (r >= 0 && r < 11 && col >= 0 && col < 8) {
                  best = std::max(best, v[static_cast<size_t>((pl * 11 + r) * 8 + col)]);
                }
              }
            }
            expected.push_back(best);
          }
        }
      }
      INFO("kernel " << p.kernel[0] << " stride " << p.stride[0] << " pad " << p.padding[0]
                     << " ceil " << ceil_mode);
      require_values(y, expected, 0.0);
    }
  }
}

TEST_CASE("adaptive_avg_pool2d: PyTorch's overlapping windows", "[pool]") {
  // 5×5 of 0..24 to 3×3: rows/cols [0,2), [1,4), [3,5) with means 0.5, 2, 3.5, so the output is
  // 5·mean(rows) + mean(cols).
  Tensor x = iota({1, 1, 5, 5});
  require_values(adaptive_avg_pool2d(x, 3, 3), {3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21});
  require_values(adaptive_avg_pool2d(x, 1, 1), {12});
  // Identity when the size is unchanged; 2×1 output averages rows [0,3) and [2,5).
  require_values(adaptive_avg_pool2d(x, 5, 5), x.to_doubles());
  require_values(adaptive_avg_pool2d(x, 2, 1), {7, 17});

  // Naive: the window bounds in floating point, floor(i·H/s) and ceil((i+1)·H/s).
  Generator gen(13);
  for (const auto& [oh, ow] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 3}, {4, 6}, {6, 5}, {13, 17}}) {
    Tensor r = rand_uniform({2, 3, 11, 13}, -1.0, 1.0, gen);
    Tensor y = adaptive_avg_pool2d(r, oh, ow);
    REQUIRE(y.shape() == Shape{2, 3, oh, ow});
    const std::vector<double> v = r.to_doubles();
    std::vector<double> expected;
    for (int64_t pl = 0; pl < 6; ++pl) {
      for (int64_t i = 0; i < oh; ++i) {
        const auto h0 = static_cast<int64_t>(std::floor(i * 11.0 / oh));
        const auto h1 = static_cast<int64_t>(std::ceil((i + 1) * 11.0 / oh));
        for (int64_t j = 0; j < ow; ++j) {
          const auto w0 = static_cast<int64_t>(std::floor(j * 13.0 / ow));
          const auto w1 = static_cast<int64_t>(std::ceil((j + 1) * 13.0 / ow));
          double acc = 0.0;
          for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) acc += v[static_cast<size_t>((pl * 11 + h) * 13 + w)];
          }
          expected.push_back(acc / static_cast<double>((h1 - h0) * (w1 - w0)));
        }
      }
    }
    INFO("output " << oh << "×" << ow);
    require_values(y, expected, 1e-6);
  }
}

TEST_CASE("channel_max / channel_mean reduce dim 1 keeping it", "[pool]") {
  // 2×3×1×2: image 0 channels (1,2) (5,-1) (3,0); image 1 is image 0 negated.
  Tensor x = Tensor::from_doubles({1, 2, 5, -1, 3, 0, -1, -2, -5, 1, -3, 0}, {2, 3, 1, 2});
  Tensor m = channel_max(x);
  REQUIRE(m.shape() == Shape{2, 1, 1, 2});
  require_values(m, {5, 2, -1, 1});
  require_values(channel_mean(x), {3, 1 / 3., -3, -1 / 3.});
}

TEST_CASE("pooling gradients match finite differences", "[pool][grad]") {
  Generator gen(14);
  std::vector<Pool2dParams> cases = {params(3, 2, 1, true, false), params(3, 2, 1, true, true),
                                     params(2, 2, 0), params(5, 2, 2),
                                     params(3, 1, 1, false, false)};
  Pool2dParams rect = params(3, 2, 1, true, true);
  rect.kernel = {3, 2};
  rect.stride = {1, 2};
  rect.padding = {0, 1};
  cases.push_back(rect);
  for (const Pool2dParams& p : cases) {
    for (bool is_max : {false, true}) {
      INFO((is_max ? "max" : "avg") << " kernel " << p.kernel[0] << "×" << p.kernel[1] << " ceil "
                                    << p.ceil_mode << " include_pad " << p.count_include_pad);
      Tensor x = random_input({2, 3, 7, 5}, gen);
      gradcheck([&](const std::vector<Tensor>& t) { return pool_f(t, is_max, p); }, {x});
    }
  }
  Tensor x = random_input({2, 3, 7, 5}, gen);
  for (const auto& [oh, ow] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 2}, {4, 3}, {9, 6}}) {
    INFO("adaptive " << oh << "×" << ow);
    gradcheck([oh = oh,
               ow = ow](const std::vector<Tensor>& t) { return adaptive_avg_pool2d(t[0], oh, ow); },
              {x});
  }
  gradcheck([](const std::vector<Tensor>& t) { return channel_max(t[0]); }, {x});
  gradcheck([](const std::vector<Tensor>& t) { return channel_mean(t[0]); }, {x});
}

TEST_CASE("pooling reads non-contiguous views", "[pool]") {
  Generator gen(15);
  Tensor base = rand_uniform({2, 3, 9, 12}, -1.0, 1.0, gen);
  Tensor view = narrow(base, 3, 2, 9);
  REQUIRE(!view.is_contiguous());
  const Tensor dense = view.clone();
  const Pool2dParams p = params(3, 2, 1, true, false);
  require_values(avg_pool2d(view, p), avg_pool2d(dense, p).to_doubles(), 0.0);
  require_values(max_pool2d(view, p), max_pool2d(dense, p).to_doubles(), 0.0);
  require_values(adaptive_avg_pool2d(view, 4, 3), adaptive_avg_pool2d(dense, 4, 3).to_doubles(),
                 0.0);
  require_values(channel_max(view), channel_max(dense).to_doubles(), 0.0);
  require_values(channel_mean(view), channel_mean(dense).to_doubles(), 0.0);
}

TEST_CASE("pooling rejects bad input with the op's name", "[pool][errors]") {
  Tensor x = Tensor::zeros({1, 2, 6, 6});
  require_error(
      [&] {
        avg_pool2d(Tensor::zeros({2, 6, 6}), params(2, 2, 0));
      },
      "avg_pool2d: input must have 4 dimensions");
  require_error(
      [&] {
        max_pool2d(Tensor::zeros({1, 2, 6, 6}, DType::I64), params(2, 2, 0));
      },
      "max_pool2d: input must be float32 or float64");
  require_error([&] { avg_pool2d(Tensor(), params(2, 2, 0)); },
                "avg_pool2d: input is an undefined tensor");
  require_error([&] { max_pool2d(x, params(3, 2, 2)); },
                "max_pool2d: padding height must be between 0 and half the kernel size (1), got 2");
  require_error([&] { avg_pool2d(x, params(0, 2, 0)); },
                "avg_pool2d: kernel height must be positive");
  require_error([&] { avg_pool2d(x, params(2, 0, 0)); },
                "avg_pool2d: stride height must be positive");
  require_error([&] { max_pool2d(x, params(7, 1, 0)); },
                "max_pool2d: kernel 7×7 with padding 0×0 does not fit");
  require_error(
      [&] {
        max_pool2d(Tensor::zeros({1, 2, 0, 6}), params(1, 1, 0));
      },
      "max_pool2d: input float32[1, 2, 0, 6] cpu has an empty spatial dimension");
  Pool2dParams wide = params(2, 2, 0);
  wide.padding = {0, 2};
  require_error([&] { avg_pool2d(x, wide); }, "avg_pool2d: padding width");
  require_error([&] { adaptive_avg_pool2d(x, 0, 3); },
                "adaptive_avg_pool2d: output size must be positive, got 0×3");
  require_error(
      [&] {
        adaptive_avg_pool2d(Tensor::zeros({2, 6}), 1, 1);
      },
      "adaptive_avg_pool2d: input must have 4");
  require_error(
      [&] {
        channel_max(Tensor::zeros({2, 6, 3}));
      },
      "channel_max: input must have 4 dimensions");
  require_error(
      [&] {
        channel_mean(Tensor::zeros({2, 0, 3, 3}));
      },
      "channel_mean: input float32[2, 0, 3, 3] cpu has no channels");
  require_error(
      [&] {
        channel_max(Tensor::zeros({2, 3, 3, 3}, DType::U8));
      },
      "channel_max: input must be float32");
}
