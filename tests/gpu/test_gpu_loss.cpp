// Cross-entropy, OHEM cross-entropy, balanced BCE, MSE and the temperature KL on the GPU against
// the CPU references, forward and backward, float32 and float64, on the nets' shapes.
//
// Tolerances. Per element, the GPU's exp/log/log1p differ from glibc's by a few ulps; the
// reductions accumulate in double on both sides (the CPU sequentially, the GPU in a fixed tree),
// so a mean over ~2.6·10⁵ pixels carries the per-element relative error (~1e-7 in fp32, not
// amplified by the number of terms: the double sum adds ~1e-16·√n) plus the cancellation in
// nll = log Σ − (x_y − m) for confident pixels. Hence rtol 1e-5 for fp32 results — looser than
// the 1e-6 of single-rounding elementwise ops, because the value is a sum of ~10⁶ transcendental
// evaluations of which the worst few set the bound — and 1e-11 for fp64. The atol follows the
// magnitude of each result: a mean's gradient is ~1/pixels per element, and its softmax − 1 term
// cancels to a few 1e-7 of that in fp32 (p − 1 for p near 1), so atol = 1e-5 (fp32) / 1e-12
// (fp64) times the gradient scale (1 for per-pixel results and sums, 1/pixels for means): still
// five orders below the error of a wrong pixel, class or scale factor.
#include <cmath>

#include "../test_support.h"
#include "gpu_compare.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// PIDNet's Cityscapes class weights (docs/pidnet-s.md, "Class weights").
const std::vector<double> kCityscapesWeights = {
    0.8373, 0.918,  0.866,  1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786, 1.0023,
    0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529, 1.0507};

constexpr int64_t kIgnore = 255;

// Class labels in [0, classes) with about `ignored` of them set to the ignore label.
Tensor random_labels(const Shape& shape, int64_t classes, double ignored, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (int64_t& y : v) y = gen.uniform() < ignored ? kIgnore : gen.randint(classes);
  return Tensor::from_vector<int64_t>(v, shape);
}

double rtol_of(DType dt) { return dt == DType::F32 ? 1e-5 : 1e-11; }
double atol_of(DType dt, double scale) { return (dt == DType::F32 ? 1e-5 : 1e-12) * scale; }

// compare_op, and the GPU result of a second run bit-identical to the first (the reductions
// have a fixed order).
void compare_loss(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                  const std::vector<Tensor>& inputs, double rtol, double atol) {
  compare_op(f, inputs, rtol, atol);
  std::vector<Tensor> gpu;
  for (const Tensor& t : inputs) gpu.push_back(t.detach().to(kGpu));
  REQUIRE(f(gpu).to_doubles() == f(gpu).to_doubles());
}

}  // namespace

TEST_CASE("cross_entropy on the GPU: Cityscapes-sized maps, weights, ignored pixels",
          "[gpu][loss][cross_entropy]") {
  Generator gen(21);
  const Shape shape = {2, 19, 256, 512};
  const double pixels = 2.0 * 256 * 512;
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(dtype_name(dt));
    Tensor x = random_input(shape, gen, -4, 4, dt);
    Tensor t = random_labels({2, 256, 512}, 19, 0.1, gen);
    Tensor w = Tensor::from_doubles(kCityscapesWeights, {19}, dt);
    for (bool weighted : {true, false}) {
      const Tensor weights = weighted ? w : Tensor();
      compare_loss(
          [weights](const std::vector<Tensor>& v) {
            return cross_entropy(v[0], v[1],
                                 weights.defined() ? weights.to(v[0].device()) : Tensor(), kIgnore,
                                 Reduction::Mean);
          },
          {x, t}, rtol_of(dt), atol_of(dt, 1 / pixels));
      compare_loss(
          [weights](const std::vector<Tensor>& v) {
            return cross_entropy(v[0], v[1],
                                 weights.defined() ? weights.to(v[0].device()) : Tensor(), kIgnore,
                                 Reduction::Sum);
          },
          {x, t}, rtol_of(dt), atol_of(dt, 1));
      compare_op(
          [weights](const std::vector<Tensor>& v) {
            return cross_entropy(v[0], v[1],
                                 weights.defined() ? weights.to(v[0].device()) : Tensor(), kIgnore,
                                 Reduction::None);
          },
          {x, t}, rtol_of(dt), atol_of(dt, 1));
    }
  }
}

TEST_CASE("cross_entropy on the GPU: odd sizes, batch 1, N×C logits, all ignored",
          "[gpu][loss][cross_entropy]") {
  Generator gen(22);
  struct Case {
    Shape logits, target;
  };
  const std::vector<Case> cases = {{{1, 5, 17, 23}, {1, 17, 23}},
                                   {{2, 3, 9, 13}, {2, 9, 13}},
                                   {{37, 7}, {37}},
                                   {{2, 4, 3, 5, 7}, {2, 3, 5, 7}}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Case& c : cases) {
      INFO(shape_str(c.logits) << " " << dtype_name(dt));
      Tensor x = random_input(c.logits, gen, -4, 4, dt);
      Tensor t = random_labels(c.target, c.logits[1], 0.2, gen);
      const double pixels = static_cast<double>(t.numel());
      for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        compare_op(
            [r](const std::vector<Tensor>& v) { return cross_entropy(v[0], v[1], {}, kIgnore, r); },
            {x, t}, rtol_of(dt), atol_of(dt, r == Reduction::Mean ? 1 / pixels : 1));
      }
    }
    // Every pixel ignored: the mean is 0 (not NaN) and so is its gradient.
    Tensor x = random_input({2, 4, 3, 5}, gen, -1, 1, dt);
    Tensor t = Tensor::from_vector<int64_t>(std::vector<int64_t>(30, kIgnore), {2, 3, 5});
    compare_op([](const std::vector<Tensor>& v) { return cross_entropy(v[0], v[1]); }, {x, t},
               rtol_of(dt), atol_of(dt, 1));
  }
}

TEST_CASE("cross_entropy on the GPU turns an out-of-range target into NaN",
          "[gpu][loss][cross_entropy]") {
  DebugChecks debug;
  Tensor x = Tensor::zeros({1, 3, 1, 4}, DType::F32, kGpu);
  Tensor t = Tensor::from_vector<int64_t>({0, 2, 7, kIgnore}, {1, 1, 4}).to(kGpu);
  REQUIRE(std::isnan(cross_entropy(x, t).item()));
  REQUIRE(std::isnan(ohem_cross_entropy(x, t, 0.9, 1).item()));
  const std::vector<double> map = cross_entropy(x, t, {}, kIgnore, Reduction::None).to_doubles();
  REQUIRE(map[0] == Approx(std::log(3.0)));
  REQUIRE(std::isnan(map[2]));
  REQUIRE(map[3] == 0.0);
  REQUIRE(cuda::take_guard_violations() == 0);
}

TEST_CASE("ohem_cross_entropy on the GPU: threshold path, min_kept path, nothing kept",
          "[gpu][loss][ohem]") {
  // A near-tie (two probabilities within an ulp of the threshold or of the k-th value) could
  // select a different pixel on the two devices; with these seeds and ~2.4·10⁵ probabilities
  // spread over (0, 1) the chance is ~1e-3, and such a failure names the pixel count that moved.
  Generator gen(23);
  const Shape shape = {2, 19, 256, 512};
  const double pixels = 2.0 * 256 * 512;
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(dtype_name(dt));
    Tensor x = random_input(shape, gen, -4, 4, dt);
    Tensor t = random_labels({2, 256, 512}, 19, 0.1, gen);
    Tensor w = Tensor::from_doubles(kCityscapesWeights, {19}, dt);
    struct Setting {
      double thresh;
      int64_t min_kept;
      const char* what;
    };
    const std::vector<Setting> settings = {
        {0.9, 131072, "PIDNet's defaults: threshold 0.9, most pixels kept"},
        {0.05, 20000, "threshold path: min_value below thresh"},
        {0.002, 131072, "min_kept path: more pixels wanted than lie below thresh"},
        {0.0, 0, "nothing kept: threshold = the smallest probability, strict <"},
        {0.7, 100000000, "min_kept beyond the labelled count: clamped to count − 1"}};
    for (const Setting& s : settings) {
      INFO(s.what);
      compare_loss(
          [s, w](const std::vector<Tensor>& v) {
            return ohem_cross_entropy(v[0], v[1], s.thresh, s.min_kept, w.to(v[0].device()),
                                      kIgnore);
          },
          {x, t}, rtol_of(dt), atol_of(dt, 1 / pixels));
    }
    // No labelled pixel at all.
    Tensor all_ignored =
        Tensor::from_vector<int64_t>(std::vector<int64_t>(2 * 7 * 9, kIgnore), {2, 7, 9});
    Tensor small = random_input({2, 19, 7, 9}, gen, -4, 4, dt);
    compare_op([](const std::vector<Tensor>& v) { return ohem_cross_entropy(v[0], v[1]); },
               {small, all_ignored}, rtol_of(dt), atol_of(dt, 1));
    // Odd sizes, batch 1, unweighted.
    Tensor odd = random_input({1, 5, 17, 23}, gen, -3, 3, dt);
    Tensor odd_t = random_labels({1, 17, 23}, 5, 0.1, gen);
    compare_op(
        [](const std::vector<Tensor>& v) { return ohem_cross_entropy(v[0], v[1], 0.5, 100); },
        {odd, odd_t}, rtol_of(dt), atol_of(dt, 1.0 / (17 * 23)));
  }
}

TEST_CASE("balanced BCE and MSE on the GPU", "[gpu][loss][bce][mse]") {
  Generator gen(24);
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(dtype_name(dt));
    const Shape shape = {2, 1, 256, 512};
    const double n = 2.0 * 256 * 512;
    // A boundary map: ~8% edges, a few soft (0.5) targets that weigh 0.
    std::vector<double> edges(static_cast<size_t>(n));
    for (double& e : edges) {
      const double u = gen.uniform();
      e = u < 0.08 ? 1.0 : (u < 0.081 ? 0.5 : 0.0);
    }
    Tensor target = Tensor::from_doubles(edges, shape, dt);
    Tensor logits = random_input(shape, gen, -6, 6, dt);
    compare_loss([](const std::vector<Tensor>& v) { return balanced_bce_with_logits(v[0], v[1]); },
                 {logits, target}, rtol_of(dt), atol_of(dt, 1 / n));
    // One-class maps: weights 0 and 1 (the loss counts only the absent class, i.e. nothing).
    Tensor zeros = Tensor::zeros({1, 1, 33, 17}, dt);
    Tensor small = random_input({1, 1, 33, 17}, gen, -3, 3, dt);
    compare_op([](const std::vector<Tensor>& v) { return balanced_bce_with_logits(v[0], v[1]); },
               {small, zeros}, rtol_of(dt), atol_of(dt, 1e-3));
    // MSE: squares summed in double on both sides; gradients in the same arithmetic.
    Tensor p = random_input({2, 19, 33, 45}, gen, -2, 2, dt);
    Tensor q = random_input({2, 19, 33, 45}, gen, -2, 2, dt);
    compare_loss([](const std::vector<Tensor>& v) { return mse_loss(v[0], v[1]); }, {p, q},
                 rtol_of(dt), atol_of(dt, 1.0 / (2 * 19 * 33 * 45)));
  }
}

TEST_CASE("kl_div_softmax on the GPU", "[gpu][loss][kl]") {
  // Everything after the load is double on both sides; only exp/log ulps and the summation order
  // differ, and the fp32 output is one rounding of the double result.
  Generator gen(25);
  for (DType dt : {DType::F32, DType::F64}) {
    INFO(dtype_name(dt));
    struct Case {
      Shape shape;
      double temperature;
    };
    const std::vector<Case> cases = {{{2, 1, 128, 256}, 0.6},  // ICFRNet's complexity maps
                                     {{1, 1, 45, 80}, 0.6},
                                     {{2, 17, 23}, 1.0},
                                     {{3, 1, 1, 1}, 2.5}};
    for (const Case& c : cases) {
      INFO(shape_str(c.shape) << " T " << c.temperature);
      Tensor s = random_input(c.shape, gen, -2, 2, dt);
      Tensor t = rand_uniform(c.shape, -2, 2, gen, dt);
      const double temp = c.temperature;
      const double scale = 1.0 / static_cast<double>(s.numel() / s.size(0));
      compare_loss(
          [temp](const std::vector<Tensor>& v) { return kl_div_softmax(v[0], v[1], temp); }, {s, t},
          dt == DType::F32 ? 1e-6 : 1e-11, atol_of(dt, scale));
    }
  }
}
