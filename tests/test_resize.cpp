// Bilinear and nearest resizing: hand-checked values, PyTorch's values (hard-coded, computed
// with torch 1.13 F.interpolate in float64), gradients by finite differences and the transpose
// identity, bad input.
#include <array>
#include <cmath>
#include <tuple>

#include "kernels/cpu/resize.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// s·sin(a·i + b) over the flat index: an input that the PyTorch oracle script rebuilds exactly.
Tensor pattern(const Shape& shape, double a = 0.7, double b = 0.3, double s = 2.0,
               DType dtype = DType::F64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = s * std::sin(a * static_cast<double>(i) + b);
  return Tensor::from_doubles(v, shape, dtype);
}

// Σ t[i]·f(i): a checksum that moves when any element does.
template <typename F>
double weighted_sum(const Tensor& t, F f) {
  const std::vector<double> v = t.to_doubles();
  double s = 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i] * f(static_cast<double>(i));
  return s;
}

}  // namespace

TEST_CASE("bilinear upsampling by hand, both align_corners", "[resize]") {
  // 1-D along W: [0, 12] → 4 samples.
  // align_corners=false: src = (d + 0.5)/2 − 0.5 = −0.25→0, 0.25, 0.75, 1.25→ clamped to pixel 1.
  // align_corners=true:  src = d/3 → 0, 1/3, 2/3, 1.
  Tensor row = Tensor::from_doubles({0, 12}, {1, 1, 1, 2});
  require_values(interpolate_bilinear(row, 1, 4, false), {0, 3, 9, 12});
  require_values(interpolate_bilinear(row, 1, 4, true), {0, 4, 8, 12});
  // 2-D is separable: out[r][c] = 12·u[c] + 24·u[r] for the 2×2 map [[0, 12], [24, 36]].
  Tensor sq = Tensor::from_doubles({0, 12, 24, 36}, {1, 1, 2, 2}, DType::F64);
  const std::vector<double> u_false = {0, 0.25, 0.75, 1}, u_true = {0, 1.0 / 3, 2.0 / 3, 1};
  std::vector<double> e_false, e_true;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      e_false.push_back(12 * u_false[c] + 24 * u_false[r]);
      e_true.push_back(12 * u_true[c] + 24 * u_true[r]);
    }
  }
  require_values(interpolate_bilinear(sq, 4, 4, false), e_false, 1e-12);
  require_values(interpolate_bilinear(sq, 4, 4, true), e_true, 1e-12);
}

TEST_CASE("bilinear downsampling and single-pixel outputs by hand", "[resize]") {
  Tensor row = Tensor::from_doubles({0, 1, 2, 3}, {1, 1, 1, 4});
  // false: src = (d + 0.5)·2 − 0.5 = 0.5, 2.5 → midpoints. true: src = d·3 → 0, 3.
  require_values(interpolate_bilinear(row, 1, 2, false), {0.5, 2.5});
  require_values(interpolate_bilinear(row, 1, 2, true), {0, 3});
  // One output: align_corners=true samples pixel 0 (scale 0); false samples the centre 1.5.
  require_values(interpolate_bilinear(row, 1, 1, true), {0});
  require_values(interpolate_bilinear(row, 1, 1, false), {1.5});
  // 1×1 → 4×4 is a constant map in both modes.
  Tensor one = Tensor::from_doubles({7, -2}, {1, 2, 1, 1});
  for (bool ac : {false, true}) {
    std::vector<double> e(16, 7.0);
    e.insert(e.end(), 16, -2.0);
    require_values(interpolate_bilinear(one, 4, 4, ac), e);
  }
  // Same size is the identity.
  Tensor x = pattern({2, 3, 5, 7});
  for (bool ac : {false, true}) require_close(interpolate_bilinear(x, 5, 7, ac), x, 0, 1e-15);
}

TEST_CASE("bilinear 7x9 -> 13x5 matches PyTorch", "[resize][pytorch]") {
  Tensor x = pattern({1, 1, 7, 9});
  // F.interpolate(x, size=(13, 5), mode='bilinear', align_corners=False), float64.
  const std::vector<double> torch_false = {
      1.0278010358399248,    1.85684896894441,      0.08316132486658187,  -1.8087913446412425,
      -1.1554157223724066,   1.0359234656488416,    1.8541757128477556,   0.07281964057123838,
      -1.8120943855711797,   -1.147668385776262,    1.0501377178144464,   1.8494975146786112,
      0.05472169305438728,   -1.8178747071985704,   -1.134110546733009,   1.0642373350771832,
      1.8446183451964167,    0.03661835731639213,   -1.8234571712813348,  -1.1204298043261147,
      1.0782910983787728,    1.8396587871890016,    0.018512866289939374, -1.8289604923462481,
      -1.1066999005737639,   1.0922038940412497,    1.834459265493453,    0.0004052970398674182,
      -1.834225050695836,    -1.0928258400573587,   1.1060931950972084,   1.8292197498498821,
      -0.017702618580807752, -1.8394498152595364,   -1.078927753413611,   1.1198141070238803,
      1.8237017579239159,    -0.035807839194821486, -1.8443945461387938,  -1.0648654132460504,
      1.1335104091784443,    1.8181442065414064,    -0.05391194354517819, -1.849299072490262,
      -1.050780176261735,    1.147059052700359,     1.8123492984196357,   -0.07200935031359273,
      -1.8539623716749947,   -1.03655755837689,     1.1605573822293458,   1.8064757394928743,
      -0.09010306266048415,  -1.8585448851065276,   -1.0222902957503621,  1.173929926776013,
      1.8004055535536363,    -0.10818753895356778,  -1.8629254341550623,  -1.007911421269627,
      1.1815713808026802,    1.7969368758740718,    -0.11852152540675846, -1.865428605039939,
      -0.9996949215663496};
  // The same with align_corners=True.
  const std::vector<double> torch_true = {
      0.5910404133226791,    1.9833296209049371,   0.08316132486658187,  -1.9550602353301938,
      -0.7477533296604737,   0.6070615701747174,   1.9810230570758505,   0.06635608788664871,
      -1.9584663477315885,   -0.7321059470670656,  0.6230827270267557,   1.9787164932467638,
      0.04955085090671553,   -1.961872460132983,   -0.7164585644736574,  0.6390158026510708,
      1.9761302108979952,    0.032738609239295106, -1.9650012351481343,  -0.7007099007064412,
      0.6549488782753861,    1.9735439285492267,   0.015926367571874687, -1.9681300101632855,
      -0.6849612369392251,   0.6707893679575885,   1.9706786588932301,   -0.0008881255044665328,
      -1.9709805632022914,   -0.6691157445743348,  0.6866298576397908,   1.9678133892372334,
      -0.017702618580807752, -1.9738311162412974,  -0.6532702522094445,  0.7023732828420637,
      1.9646699423637695,    -0.03451460915096337, -1.9764026413751838,  -0.6373324111990979,
      0.7181167080443366,    1.9615264954903058,   -0.05132659972111898, -1.9789741665090703,
      -0.6213945701887512,   0.7337586176716271,   1.958105760137413,    -0.06813133457750391,
      -1.98126593669765,     -0.60536888659464,    0.7494005272989175,   1.9546850247845202,
      -0.08493606943388884,  -1.9835577068862296,  -0.5893432030005288,  0.7649364989573983,
      1.9509879680872397,    -0.10172879742032365, -1.9855690741836605,  -0.5732342077198215,
      0.7804724706158792,    1.9472909113899595,   -0.11852152540675846, -1.9875804414810914,
      -0.5571252124391142};
  require_values(interpolate_bilinear(x, 13, 5, false), torch_false, 1e-12);
  require_values(interpolate_bilinear(x, 13, 5, true), torch_true, 1e-12);
  // float32 agrees to float precision.
  Tensor xf = pattern({1, 1, 7, 9}, 0.7, 0.3, 2.0, DType::F32);
  require_values(interpolate_bilinear(xf, 13, 5, false), torch_false, 1e-5);
  require_values(interpolate_bilinear(xf, 13, 5, true), torch_true, 1e-5);
}

TEST_CASE("bilinear x8 (45x80 -> 360x640) and its backward match PyTorch checksums",
          "[resize][pytorch]") {
  Tensor x = pattern({1, 2, 45, 80}, 0.013, 0.1, 1.0);
  auto w_out = [](double i) { return std::cos(0.001 * i); };
  auto w_in = [](double i) { return std::sin(0.01 * i); };
  struct Expected {
    bool align_corners;
    double sum, wsum, grad_sum, grad_wsum;
  };
  // From torch: y.sum(), (y·cos(0.001·i)).sum(), and for x.grad of (y·cos(0.001·i)).sum():
  // grad.sum() and (grad·sin(0.01·i)).sum().
  const Expected cases[] = {
      {false, 715.5852625372061, -547.6675343770422, 849.7800712744079, 518.3502674464496},
      {true, 531.7942775952195, 3290.478171013717, 849.780071274407, 305.9701192611599}};
  for (const Expected& e : cases) {
    INFO("align_corners " << e.align_corners);
    Tensor xg = x.clone().set_requires_grad(true);
    Tensor y = interpolate_bilinear(xg, 360, 640, e.align_corners);
    REQUIRE(y.shape() == Shape{1, 2, 360, 640});
    CHECK(sum(y).item() == Approx(e.sum).epsilon(1e-12));
    CHECK(weighted_sum(y, w_out) == Approx(e.wsum).epsilon(1e-11));
    std::vector<double> wv(static_cast<size_t>(y.numel()));
    for (size_t i = 0; i < wv.size(); ++i) wv[i] = w_out(static_cast<double>(i));
    sum(mul(y, Tensor::from_doubles(wv, y.shape(), DType::F64))).backward();
    CHECK(sum(xg.grad()).item() == Approx(e.grad_sum).epsilon(1e-12));
    CHECK(weighted_sum(xg.grad(), w_in) == Approx(e.grad_wsum).epsilon(1e-11));
  }
}

TEST_CASE("nearest matches PyTorch's index rule", "[resize][pytorch]") {
  // floor(d·in/out) with a float scale, clamped; values from torch 1.13
  // F.interpolate(mode='nearest').
  const std::vector<std::tuple<int64_t, int64_t, std::vector<double>>> rows = {
      {3, 5, {0, 0, 1, 1, 2}},
      {4, 3, {0, 1, 2}},
      {6, 9, {0, 0, 1, 2, 2, 3, 4, 4, 5}},
      {5, 7, {0, 0, 1, 2, 2, 3, 4}},
      {10, 3, {0, 3, 6}},
      {7, 13, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6}}};
  for (const auto& [in, out, expected] : rows) {
    INFO(in << " -> " << out);
    std::vector<double> ramp(static_cast<size_t>(in));
    for (int64_t i = 0; i < in; ++i) ramp[static_cast<size_t>(i)] = static_cast<double>(i);
    Tensor r = Tensor::from_doubles(ramp, {1, 1, 1, in});
    require_values(interpolate_nearest(r, 1, out), expected, 0);
    // The rule is the same along H.
    Tensor c = Tensor::from_doubles(ramp, {1, 1, in, 1});
    require_values(interpolate_nearest(c, out, 1), expected, 0);
  }
  // 2-D against torch: 7×9 → 13×5, rows 0,0,1,1,2,... of the input, columns 0,1,3,5,7.
  Tensor x = pattern({1, 1, 7, 9});
  const std::vector<double> first_rows = {
      0.5910404133226791,  1.682941969615793,   1.3509263611023026, -1.2237157818854378,
      -1.7669093114403072, 0.5910404133226791,  1.682941969615793,  1.3509263611023026,
      -1.2237157818854378, -1.7669093114403072, 0.6230827270267557, 1.7008732412571288,
      1.3259384601643667,  -1.2501412977857642, -1.750904349376857};
  Tensor y = interpolate_nearest(x, 13, 5);
  require_values(narrow(y, 2, 0, 3), first_rows, 1e-15);
  // Last row comes from input row 6 (torch: ..., -1.6635494852572044).
  require_values(narrow(narrow(y, 2, 12, 1), 3, 4, 1), {-1.6635494852572044}, 1e-15);
}

TEST_CASE("resize gradients match finite differences", "[resize][grad]") {
  Generator gen(11);
  const std::vector<std::array<int64_t, 4>> sizes = {{5, 7, 9, 4}, {7, 9, 13, 5}, {3, 2, 2, 7},
                                                     {1, 1, 4, 4}, {4, 5, 1, 1},  {6, 3, 6, 3}};
  for (const auto& s : sizes) {
    INFO(s[0] << "x" << s[1] << " -> " << s[2] << "x" << s[3]);
    Tensor x = random_input({2, 3, s[0], s[1]}, gen);
    for (bool ac : {false, true}) {
      gradcheck(
          [&](const std::vector<Tensor>& t) { return interpolate_bilinear(t[0], s[2], s[3], ac); },
          {x});
    }
    gradcheck([&](const std::vector<Tensor>& t) { return interpolate_nearest(t[0], s[2], s[3]); },
              {x});
  }
}

TEST_CASE("resize backward is the transpose of the forward on large maps", "[resize][grad]") {
  // <A x, v> = <x, Aᵀ v> for random x, v: exercises every scatter-add of the backward at the
  // ×8 size the loss uses, where a finite-difference check would be too slow.
  Generator gen(5);
  Tensor x = random_input({1, 3, 45, 80}, gen);
  Tensor v = rand_uniform({1, 3, 360, 640}, -1, 1, gen, DType::F64);
  for (int mode = 0; mode < 3; ++mode) {
    INFO("mode " << mode);
    x.zero_grad();
    Tensor y =
        mode == 2 ? interpolate_nearest(x, 360, 640) : interpolate_bilinear(x, 360, 640, mode == 1);
    Tensor lhs = sum(mul(y, v));
    lhs.backward();
    const double rhs = sum(mul(x.detach(), x.grad())).item();
    REQUIRE(lhs.item() == Approx(rhs).epsilon(1e-12));
  }
}

namespace {

// The backward gathers of kernels/cpu/resize.h (what the CUDA kernels run per input element)
// over every element, against the CPU scatter: equal bit for bit, for every plane.
template <typename T>
void require_gathers_equal_scatters(const cpu::ResizeGeometry& g, bool align_corners,
                                    Generator& gen) {
  INFO(g.in_h << "x" << g.in_w << " -> " << g.out_h << "x" << g.out_w << " align_corners "
              << align_corners << (sizeof(T) == 4 ? " float" : " double"));
  Tensor go_t = rand_uniform({g.planes, 1, g.out_h, g.out_w}, -1, 1, gen,
                             sizeof(T) == 4 ? DType::F32 : DType::F64);
  const T* go = go_t.data<T>();
  const size_t n_in = static_cast<size_t>(g.planes * g.in_h * g.in_w);
  std::vector<T> scatter(n_in, T(0)), gather(n_in, T(-7));
  std::vector<T> scatter_nearest(n_in, T(0)), gather_nearest(n_in, T(-7));
  cpu::bilinear_backward(cpu::Exec{}, scatter.data(), go, g, align_corners);
  cpu::nearest_backward(cpu::Exec{}, scatter_nearest.data(), go, g);
  const T sh = cpu::linear_scale<T>(g.in_h, g.out_h, align_corners);
  const T sw = cpu::linear_scale<T>(g.in_w, g.out_w, align_corners);
  const float nh = cpu::nearest_scale(g.in_h, g.out_h), nw = cpu::nearest_scale(g.in_w, g.out_w);
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* gp = go + p * g.out_h * g.out_w;
    for (int64_t iy = 0; iy < g.in_h; ++iy) {
      for (int64_t ix = 0; ix < g.in_w; ++ix) {
        const size_t i = static_cast<size_t>((p * g.in_h + iy) * g.in_w + ix);
        gather[i] =
            cpu::bilinear_input_grad(gp, g, sh, sw, align_corners, iy, ix,
                                     cpu::linear_sources(iy, sh, g.in_h, g.out_h, align_corners),
                                     cpu::linear_sources(ix, sw, g.in_w, g.out_w, align_corners));
        gather_nearest[i] =
            cpu::nearest_input_grad(gp, g.out_w, cpu::nearest_sources(iy, nh, g.in_h, g.out_h),
                                    cpu::nearest_sources(ix, nw, g.in_w, g.out_w));
      }
    }
  }
  size_t bilinear_mismatches = 0, nearest_mismatches = 0;
  for (size_t i = 0; i < n_in; ++i) {
    bilinear_mismatches += gather[i] != scatter[i];
    nearest_mismatches += gather_nearest[i] != scatter_nearest[i];
  }
  REQUIRE(bilinear_mismatches == 0);
  REQUIRE(nearest_mismatches == 0);
}

}  // namespace

TEST_CASE("the per-element gathers of the CUDA backward equal the CPU scatter exactly",
          "[resize][grad]") {
  Generator gen(7);
  const std::vector<std::array<int64_t, 4>> sizes = {
      {16, 32, 128, 256}, {45, 80, 360, 640}, {97, 131, 200, 301}, {97, 131, 31, 47},
      {97, 131, 13, 262}, {1, 1, 7, 9},       {5, 3, 97, 131},     {33, 17, 1, 5},
      {7, 9, 7, 9},       {64, 128, 128, 256}};
  for (const auto& s : sizes) {
    cpu::ResizeGeometry g;
    g.planes = 2;
    g.in_h = s[0];
    g.in_w = s[1];
    g.out_h = s[2];
    g.out_w = s[3];
    for (bool ac : {true, false}) {
      require_gathers_equal_scatters<float>(g, ac, gen);
      require_gathers_equal_scatters<double>(g, ac, gen);
    }
  }
  // PIDNet's ×8 to 1024×2048 along each axis (one plane, and a thin map so it stays fast).
  cpu::ResizeGeometry wide;
  wide.planes = 1;
  wide.in_h = 2;
  wide.in_w = 256;
  wide.out_h = 16;
  wide.out_w = 2048;
  require_gathers_equal_scatters<float>(wide, true, gen);
  cpu::ResizeGeometry tall = wide;
  tall.in_h = 128;
  tall.in_w = 2;
  tall.out_h = 1024;
  tall.out_w = 16;
  require_gathers_equal_scatters<float>(tall, true, gen);
}

TEST_CASE("resize reads non-contiguous views", "[resize]") {
  Tensor base = pattern({2, 3, 6, 10});
  Tensor view = narrow(base, 3, 2, 5);  // rows of 5 out of 10: not contiguous
  REQUIRE_FALSE(view.is_contiguous());
  require_close(interpolate_bilinear(view, 11, 4, false),
                interpolate_bilinear(view.clone(), 11, 4, false), 0, 0);
  require_close(interpolate_nearest(view, 11, 4), interpolate_nearest(view.clone(), 11, 4), 0, 0);
}

TEST_CASE("resize rejects bad input with the op's name", "[resize][errors]") {
  Tensor x = Tensor::zeros({1, 2, 3, 3});
  require_error(
      [&] {
        interpolate_bilinear(Tensor::zeros({2, 3, 3}), 4, 4, false);
      },
      "interpolate_bilinear: input (N×C×H×W) must have 4 dimensions");
  require_error([&] { interpolate_bilinear(x, 0, 4, true); },
                "interpolate_bilinear: output size must be positive");
  require_error([&] { interpolate_nearest(x, 4, -1); },
                "interpolate_nearest: output size must be positive");
  require_error(
      [&] {
        interpolate_nearest(Tensor::zeros({1, 1, 2, 2}, DType::I64), 4, 4);
      },
      "interpolate_nearest: input must be float32 or float64");
  require_error([&] { interpolate_bilinear(Tensor(), 4, 4, false); },
                "interpolate_bilinear: input is an undefined tensor");
  require_error(
      [&] {
        interpolate_bilinear(Tensor::zeros({1, 1, 0, 3}), 4, 4, false);
      },
      "interpolate_bilinear: input has an empty spatial size");
}
