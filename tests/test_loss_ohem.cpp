// ohem_cross_entropy (docs/pidnet-s.md, "OHEM cross-entropy"): pixels whose kept/dropped status is
// worked out by hand (threshold path, min_kept path, the count − 1 clamp, strict-< ties, ignored
// pixels, nothing kept), PyTorch's values from the authors' _ohem_forward (torch 1.13, float64,
// hard-coded), finite-difference gradients, bad input.
#include <algorithm>
#include <cmath>

#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

Tensor labels(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector<int64_t>(v, shape);
}

// A 2-class pixel whose target class y has softmax probability p: logit_y = ln(p/(1−p)), the
// other logit 0 (then softmax_y = σ(logit_y) = p).
struct Pixel {
  double p;
  int64_t y;  // 255 = ignored
};

// N×2×1×W logits and N×1×W labels from N·W pixels listed image by image.
std::pair<Tensor, Tensor> two_class_map(const std::vector<Pixel>& pixels, int64_t n) {
  const int64_t w = static_cast<int64_t>(pixels.size()) / n;
  std::vector<double> x(pixels.size() * 2, 0.0);
  std::vector<int64_t> t(pixels.size());
  for (int64_t i = 0; i < n * w; ++i) {
    const Pixel& px = pixels[static_cast<size_t>(i)];
    const int64_t img = i / w, col = i % w;
    t[static_cast<size_t>(i)] = px.y;
    // Ignored pixels get a very unlikely class 0: they would be kept first if they were counted.
    const int64_t cls = px.y == 255 ? 0 : px.y;
    const double logit = px.y == 255 ? -8.0 : std::log(px.p / (1 - px.p));
    x[static_cast<size_t>((img * 2 + cls) * w + col)] = logit;
  }
  return {Tensor::from_doubles(x, {n, 2, 1, w}, DType::F64), labels(t, {n, 1, w})};
}

// Mean of w_y·(−ln p) over the listed kept pixels.
double kept_mean(const std::vector<Pixel>& kept, const std::vector<double>& w = {1, 1}) {
  double s = 0;
  for (const Pixel& px : kept) s += -w[static_cast<size_t>(px.y)] * std::log(px.p);
  return s / static_cast<double>(kept.size());
}

// s·sin(a·i + b) over the flat index (the oracle script builds the same input).
Tensor pattern(const Shape& shape, double a, double b, double s) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = s * std::sin(a * static_cast<double>(i) + b);
  return Tensor::from_doubles(v, shape, DType::F64);
}

// Two images of three pixels; valid probabilities sorted: 0.2, 0.5, 0.7, 0.95, 0.99.
const std::vector<Pixel> kPixels = {{0.2, 0}, {0.95, 1}, {0.0, 255}, {0.5, 1}, {0.99, 0}, {0.7, 0}};

}  // namespace

TEST_CASE("ohem keeps the pixels below thresh when min_value is lower", "[loss][ohem]") {
  auto [x, t] = two_class_map(kPixels, 2);
  // min_kept 2 → min_value = sorted[2] = 0.7 < 0.9 → threshold 0.9: keep 0.2, 0.5, 0.7 (pooled
  // over both images; the ignored pixel is not a candidate although its probability is tiny).
  require_values(ohem_cross_entropy(x, t, 0.9, 2), {kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}})},
                 1e-12);
  // thresh 0.6 → keep 0.2 and 0.5 only.
  require_values(ohem_cross_entropy(x, t, 0.6, 2), {kept_mean({{0.2, 0}, {0.5, 1}})}, 1e-12);
  // Class weights multiply each kept pixel's CE, but the mean is a plain one (÷ 3, not ÷ Σw).
  Tensor w = Tensor::from_doubles({2, 0.5}, {2}, DType::F64);
  require_values(ohem_cross_entropy(x, t, 0.9, 2, w),
                 {kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}}, {2, 0.5})}, 1e-12);
  // float32 selects the same pixels.
  require_values(ohem_cross_entropy(x.to(DType::F32), t, 0.9, 2, w.to(DType::F32)),
                 {kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}}, {2, 0.5})}, 1e-6);
}

TEST_CASE("ohem raises the threshold to min_value (min_kept path, strict <)", "[loss][ohem]") {
  auto [x, t] = two_class_map(kPixels, 2);
  const double four = kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}, {0.95, 1}});
  // min_kept 4 → min_value = sorted[4] = 0.99 > 0.9: keep p < 0.99, i.e. four pixels; the
  // pixel at 0.99 itself is dropped by the strict comparison.
  require_values(ohem_cross_entropy(x, t, 0.9, 4), {four}, 1e-12);
  // min_kept 3 → min_value 0.95: keep 0.2, 0.5, 0.7 (the 0.95 pixel ties and is dropped).
  require_values(ohem_cross_entropy(x, t, 0.9, 3), {kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}})},
                 1e-12);
  // min_kept beyond the count is clamped to count − 1 = 4: the same as min_kept 4, and the
  // default min_kept of 131072 behaves alike.
  require_values(ohem_cross_entropy(x, t, 0.9, 5), {four}, 1e-12);
  require_values(ohem_cross_entropy(x, t), {four}, 1e-12);
  // thresh above every probability keeps everything.
  require_values(ohem_cross_entropy(x, t, 1.0, 131072),
                 {kept_mean({{0.2, 0}, {0.5, 1}, {0.7, 0}, {0.95, 1}, {0.99, 0}})}, 1e-12);
}

TEST_CASE("ohem ties at the threshold are dropped", "[loss][ohem]") {
  // Two pixels with bit-identical logits share p = 0.95 exactly; min_kept 1 and 2 both pick
  // min_value 0.95, and neither of the tied pixels is strictly below it.
  const std::vector<Pixel> px = {{0.3, 1}, {0.95, 0}, {0.95, 0}, {0.99, 1}};
  auto [x, t] = two_class_map(px, 1);
  require_values(ohem_cross_entropy(x, t, 0.5, 1), {kept_mean({{0.3, 1}})}, 1e-12);
  require_values(ohem_cross_entropy(x, t, 0.5, 2), {kept_mean({{0.3, 1}})}, 1e-12);
  // min_kept 3 → 0.99: now both 0.95 pixels are kept.
  require_values(ohem_cross_entropy(x, t, 0.5, 3), {kept_mean({{0.3, 1}, {0.95, 0}, {0.95, 0}})},
                 1e-12);
  // min_kept 0 → min_value = smallest p = 0.3 and thresh 0.1 → threshold 0.3 → nothing is
  // strictly below: the loss is 0 (the authors' code gives NaN here).
  require_values(ohem_cross_entropy(x, t, 0.1, 0), {0}, 0);
}

TEST_CASE("ohem returns 0 with a zero gradient when nothing is kept", "[loss][ohem]") {
  // A single labelled pixel is never below its own probability.
  auto [x1, t1] = two_class_map({{0.4, 0}, {0.1, 255}}, 1);
  x1.set_requires_grad(true);
  Tensor l = ohem_cross_entropy(x1, t1, 0.3, 5);
  require_values(l, {0}, 0);
  l.backward();
  require_values(x1.grad(), {0, 0, 0, 0}, 0);
  // No labelled pixel at all.
  auto [x2, t2] = two_class_map({{0.1, 255}, {0.1, 255}}, 1);
  require_values(ohem_cross_entropy(x2, t2), {0}, 0);
}

TEST_CASE("ohem gradient by hand: the mean over the kept set", "[loss][ohem][grad]") {
  auto [x, t] = two_class_map(kPixels, 2);
  x.set_requires_grad(true);
  Tensor w = Tensor::from_doubles({2, 0.5}, {2}, DType::F64);
  ohem_cross_entropy(x, t, 0.9, 2, w).backward();
  // Kept: 0.2 (y=0), 0.5 (y=1), 0.7 (y=0); K = 3. For a kept pixel the gradient is
  // w_y/K·(p_c − [c = y]): the target logit gets w_y(p − 1)/K, the other w_y(1 − p)/K.
  // Layout per image [c0 of 3 columns, c1 of 3 columns].
  const double k = 1.0 / 3;
  const std::vector<double> expected = {
      2 * k * (0.2 - 1),   0, 0,  // image 0, class 0: pixel (0.2, y=0) kept, 0.95 dropped, ignored
      2 * k * (1 - 0.2),   0, 0,  // image 0, class 1
      0.5 * k * (1 - 0.5), 0, 2 * k * (0.7 - 1),  // image 1, class 0: 0.5 (y=1), 0.99 dropped, 0.7
      0.5 * k * (0.5 - 1), 0, 2 * k * (1 - 0.7)};
  require_values(x.grad(), expected, 1e-12);
}

TEST_CASE("ohem equals cross_entropy summed over the kept pixels / K", "[loss][ohem]") {
  Generator gen(23);
  Tensor x = rand_uniform({2, 4, 5, 7}, -2, 2, gen, DType::F64);
  std::vector<int64_t> tv(2 * 5 * 7);
  for (auto& v : tv) v = gen.randint(6) == 0 ? 255 : gen.randint(4);
  Tensor t = labels(tv, {2, 5, 7});
  // The kept set by brute force: probabilities of the labelled pixels, threshold, strict <.
  Tensor p = softmax(x).detach();
  const std::vector<double> pv = p.to_doubles();
  std::vector<double> valid;
  std::vector<double> prob(tv.size());
  for (size_t i = 0; i < tv.size(); ++i) {
    const size_t n = i / 35, s = i % 35;
    if (tv[i] == 255) continue;
    prob[i] = pv[(n * 4 + static_cast<size_t>(tv[i])) * 35 + s];
    valid.push_back(prob[i]);
  }
  std::sort(valid.begin(), valid.end());
  for (int64_t min_kept : {0, 10, 40, 1000}) {
    const double threshold = std::max(valid[std::min<size_t>(min_kept, valid.size() - 1)], 0.6);
    std::vector<int64_t> masked = tv;
    int64_t kept = 0;
    for (size_t i = 0; i < tv.size(); ++i) {
      if (tv[i] == 255) continue;
      if (prob[i] < threshold)
        ++kept;
      else
        masked[i] = 255;
    }
    INFO("min_kept " << min_kept << " kept " << kept);
    REQUIRE(kept > 0);
    const double expected =
        cross_entropy(x, labels(masked, {2, 5, 7}), Tensor(), 255, Reduction::Sum).item() / kept;
    REQUIRE(ohem_cross_entropy(x, t, 0.6, min_kept).item() == Approx(expected).epsilon(1e-13));
  }
}

TEST_CASE("ohem matches the authors' PyTorch code", "[loss][ohem][pytorch]") {
  // score = 2.5·sin(0.9·i + 0.2) over 2×4×3×5; target (7i + 1) mod 5 with 4 → 255;
  // weights (0.8, 1.0, 1.3, 0.6). Sorted valid probabilities run 0.0063 … 0.7853, 0.8091,
  // 0.8329, 0.8554 (24 pixels). Loss and gradient checksums Σ|g|, Σ g_i·cos(i) from torch.
  Tensor x = pattern({2, 4, 3, 5}, 0.9, 0.2, 2.5);
  std::vector<int64_t> tv(30);
  for (size_t i = 0; i < tv.size(); ++i)
    tv[i] = (7 * i + 1) % 5 == 4 ? 255 : static_cast<int64_t>((7 * i + 1) % 5);
  Tensor t = labels(tv, {2, 3, 5});
  Tensor w = Tensor::from_doubles({0.8, 1.0, 1.3, 0.6}, {4}, DType::F64);
  struct Case {
    double thresh;
    int64_t min_kept;
    bool weighted;
    double loss, grad_abs, grad_cos;
  };
  const Case cases[] = {
      {0.7, 5, false, 2.679278631427917, 1.6850491569850514, -0.15439808790419912},   // 20 kept
      {0.3, 5, false, 3.2954135421259556, 1.8736838513766407, -0.20879413211263115},  // 15 kept
      {0.3, 20, false, 2.679278631427917, 1.6850491569850514,
       -0.15439808790419912},  // min_value 0.7853
      {0.7, 5, true, 2.4698448521917165, 1.616992810934297, -0.165060651127955},
      {0.3, 20, true, 2.4698448521917165, 1.616992810934297, -0.165060651127955},
      {0.9, 131072, true, 2.08084492890492, 1.388557338460238, -0.14332161150767075},  // all 24
      {0.5, 131072, false, 2.3574751983261484, 1.5150597743205987,
       -0.15657189898289714},                                                       // 23 kept
      {0.5, 0, true, 2.564760296776869, 1.6508900799219477, -0.2169709343312839}};  // 19 kept
  for (const Case& c : cases) {
    INFO("thresh " << c.thresh << " min_kept " << c.min_kept << " weighted " << c.weighted);
    Tensor xg = x.clone().set_requires_grad(true);
    Tensor l = ohem_cross_entropy(xg, t, c.thresh, c.min_kept, c.weighted ? w : Tensor());
    CHECK(l.item() == Approx(c.loss).epsilon(1e-13));
    l.backward();
    const std::vector<double> g = xg.grad().to_doubles();
    double gabs = 0, gcos = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      gabs += std::abs(g[i]);
      gcos += g[i] * std::cos(static_cast<double>(i));
    }
    CHECK(gabs == Approx(c.grad_abs).epsilon(1e-12));
    CHECK(gcos == Approx(c.grad_cos).epsilon(1e-11));
  }
}

TEST_CASE("ohem gradients match finite differences", "[loss][ohem][grad]") {
  // Random logits: the probabilities are far apart relative to the finite-difference step, so
  // the kept set does not change while the checker perturbs an element.
  Generator gen(29);
  Tensor x = random_input({2, 4, 5, 7}, gen, -2, 2);
  std::vector<int64_t> tv(2 * 5 * 7);
  for (auto& v : tv) v = gen.randint(6) == 0 ? 255 : gen.randint(4);
  Tensor t = labels(tv, {2, 5, 7});
  Tensor w = Tensor::from_doubles({0.8, 1.0, 1.3, 0.6}, {4}, DType::F64);
  // No element may be skipped as a kink: a kink would mean the kept set moved under the step.
  GradCheckOptions strict;
  strict.max_kink_fraction = 0.0;
  // Threshold path, min_kept path, clamp path.
  for (auto [thresh, min_kept] :
       std::vector<std::pair<double, int64_t>>{{0.6, 5}, {0.2, 40}, {0.5, 100000}}) {
    INFO("thresh " << thresh << " min_kept " << min_kept);
    gradcheck(
        [&](const std::vector<Tensor>& in) {
          return ohem_cross_entropy(in[0], t, thresh, min_kept);
        },
        {x}, strict);
    gradcheck(
        [&](const std::vector<Tensor>& in) {
          return ohem_cross_entropy(in[0], t, thresh, min_kept, w);
        },
        {x}, strict);
  }
}

TEST_CASE("ohem rejects bad input with the op's name", "[loss][ohem][errors]") {
  Tensor x = Tensor::zeros({1, 2, 1, 2});
  Tensor t = labels({0, 1}, {1, 1, 2});
  require_error(
      [&] {
        ohem_cross_entropy(x, Tensor::zeros({1, 1, 2}));
      },
      "ohem_cross_entropy: target must hold int64 class indices");
  require_error(
      [&] {
        ohem_cross_entropy(x, labels({0, 1}, {1, 2, 1}));
      },
      "ohem_cross_entropy: target must have shape [1, 1, 2]");
  require_error([&] { ohem_cross_entropy(x, t, 0.9, 10, Tensor::ones({5})); },
                "ohem_cross_entropy: class_weights must have shape [2]");
  require_error(
      [&] {
        ohem_cross_entropy(x, labels({0, 7}, {1, 1, 2}));
      },
      "ohem_cross_entropy: target value 7 at flat index 1 is outside [0, 2)");
  require_error([&] { ohem_cross_entropy(x, t, 0.9, -1); },
                "ohem_cross_entropy: min_kept must be non-negative");
  require_error([&] { ohem_cross_entropy(Tensor(), t); },
                "ohem_cross_entropy: logits is an undefined tensor");
}
