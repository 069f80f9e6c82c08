// cross_entropy: hand-checked values and gradients, PyTorch's values (torch 1.13
// F.cross_entropy in float64, hard-coded), finite-difference gradients, bad input.
#include <cmath>

#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// s·sin(a·i + b) over the flat index (the oracle script builds the same input).
Tensor pattern(const Shape& shape, double a = 0.7, double b = 0.3, double s = 2.0,
               DType dtype = DType::F64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = s * std::sin(a * static_cast<double>(i) + b);
  return Tensor::from_doubles(v, shape, dtype);
}

Tensor labels(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector<int64_t>(v, shape);
}

// Random labels in [0, C) with about one pixel in five set to `ignore`.
Tensor random_labels(const Shape& shape, int64_t classes, int64_t ignore, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& t : v) t = gen.randint(5) == 0 ? ignore : gen.randint(classes);
  return labels(v, shape);
}

const double ln2 = std::log(2.0);

}  // namespace

TEST_CASE("cross_entropy on a 1x2x1x2 map by hand", "[loss][cross_entropy]") {
  // Pixel 0: logits (0, 0), target 0 → nll = ln 2.
  // Pixel 1: logits (ln 3, 0), target 1 → nll = ln(3 + 1) − 0 = ln 4.
  // Layout N×C×H×W: [c0p0, c0p1, c1p0, c1p1].
  Tensor x = Tensor::from_doubles({0, std::log(3.0), 0, 0}, {1, 2, 1, 2}, DType::F64);
  Tensor t = labels({0, 1}, {1, 1, 2});
  Tensor w = Tensor::from_doubles({1, 3}, {2}, DType::F64);
  require_values(cross_entropy(x, t), {1.5 * ln2}, 1e-15);
  require_values(cross_entropy(x, t, Tensor(), 255, Reduction::Sum), {3 * ln2}, 1e-15);
  // Weighted mean Σ w_y·nll / Σ w_y = (1·ln 2 + 3·ln 4) / (1 + 3) = 7/4 ln 2.
  require_values(cross_entropy(x, t, w), {1.75 * ln2}, 1e-15);
  require_values(cross_entropy(x, t, w, 255, Reduction::Sum), {7 * ln2}, 1e-15);
  Tensor none = cross_entropy(x, t, w, 255, Reduction::None);
  REQUIRE(none.shape() == Shape{1, 1, 2});
  require_values(none, {ln2, 6 * ln2}, 1e-15);

  // Gradient of the unweighted mean: (softmax − onehot)/2 per pixel;
  // pixel 0: ((½, ½) − (1, 0))/2 = (−¼, ¼); pixel 1: ((¾, ¼) − (0, 1))/2 = (⅜, −⅜).
  Tensor xg = x.clone().set_requires_grad(true);
  cross_entropy(xg, t).backward();
  require_values(xg.grad(), {-0.25, 0.375, 0.25, -0.375}, 1e-15);
  // Weighted mean: w_y·(softmax − onehot)/Σw: pixel 0 (−½, ½)/4, pixel 1 3·(¾, −¾)/4.
  xg.zero_grad();
  cross_entropy(xg, t, w).backward();
  require_values(xg.grad(), {-0.125, 0.5625, 0.125, -0.5625}, 1e-15);
  // Reduction::None back-propagates the given per-pixel gradient (2, −1).
  xg.zero_grad();
  cross_entropy(xg, t, w, 255, Reduction::None)
      .backward(Tensor::from_doubles({2, -1}, {1, 1, 2}, DType::F64));
  require_values(xg.grad(), {-1, -2.25, 1, 2.25}, 1e-15);
}

TEST_CASE("cross_entropy ignores pixels and never returns NaN", "[loss][cross_entropy]") {
  Tensor x = Tensor::from_doubles({0, std::log(3.0), 0, 0}, {1, 2, 1, 2}, DType::F64);
  Tensor w = Tensor::from_doubles({1, 3}, {2}, DType::F64);
  Tensor xg = x.clone().set_requires_grad(true);
  // Pixel 1 ignored: only pixel 0 remains (weight 1, nll ln 2), in the numerator and the
  // denominator alike.
  Tensor t = labels({0, 255}, {1, 1, 2});
  require_values(cross_entropy(xg, t, w), {ln2}, 1e-15);
  require_values(cross_entropy(xg, t, w, 255, Reduction::None), {ln2, 0}, 1e-15);
  cross_entropy(xg, t, w).backward();
  require_values(xg.grad(), {-0.5, 0, 0.5, 0}, 1e-15);
  // Another ignore label, and one that is a valid class index (class 1 ignored).
  require_values(cross_entropy(x, labels({0, -1}, {1, 1, 2}), w, -1), {ln2}, 1e-15);
  require_values(cross_entropy(x, labels({0, 1}, {1, 1, 2}), w, 1), {ln2}, 1e-15);
  // Nothing kept: 0 (PyTorch gives 0/0 = NaN) with a zero gradient.
  Tensor none_kept = labels({255, 255}, {1, 1, 2});
  xg.zero_grad();
  Tensor l = cross_entropy(xg, none_kept, w);
  require_values(l, {0}, 0);
  l.backward();
  require_values(xg.grad(), {0, 0, 0, 0}, 0);
  // A zero class weight on every kept pixel is the same case.
  require_values(
      cross_entropy(x, labels({0, 0}, {1, 1, 2}), Tensor::from_doubles({0, 1}, {2}, DType::F64)),
      {0}, 0);
}

TEST_CASE("cross_entropy matches PyTorch with weights and ignored pixels",
          "[loss][cross_entropy][pytorch]") {
  Tensor x = pattern({2, 3, 2, 3});
  // (7i + 1) mod 4 with 3 → 255, as in the oracle script.
  Tensor t = labels({1, 0, 255, 2, 1, 0, 255, 2, 1, 0, 255, 2}, {2, 2, 3});
  Tensor w = Tensor::from_doubles({0.5, 1.0, 2.0}, {3}, DType::F64);
  require_values(cross_entropy(x, t), {2.112817937841912}, 1e-13);
  require_values(cross_entropy(x, t, w), {2.4204817433196366}, 1e-13);
  require_values(cross_entropy(x, t, w, 255, Reduction::Sum), {25.415058304856185}, 1e-13);
  require_values(cross_entropy(x, t, w, 255, Reduction::None),
                 {3.697829004315048, 0.10229286231354921, 0.0, 7.462180502308186,
                  0.20704773145416897, 1.6525818512309483, 0.0, 3.849783386474011,
                  2.760928184982439, 0.22841183830435877, 0.0, 5.454002943473475},
                 1e-13);
  Tensor xg = x.clone().set_requires_grad(true);
  cross_entropy(xg, t, w).backward();
  require_values(xg.grad(),
                 {0.03010380772231249,
                  -0.008810244064361494,
                  0.0,
                  0.1253657885579329,
                  0.015357752170960961,
                  -0.045871752163010746,
                  -0.0928783562432812,
                  0.0012321934027907447,
                  0.0,
                  0.06054531775176601,
                  -0.017811348161567396,
                  0.042969966317639885,
                  0.06277454852096871,
                  0.007578050661570751,
                  0.0,
                  -0.18591110630969893,
                  0.00245359599060643,
                  0.0029017858453708537,
                  0.0,
                  0.15769483753315328,
                  0.08596644127143015,
                  -0.017462285980430457,
                  0.0,
                  0.00668310445361007,
                  0.0,
                  0.004992484934871458,
                  -0.08921590008132389,
                  0.016321174958907725,
                  0.0,
                  0.17133305839520907,
                  0.0,
                  -0.16268732246802475,
                  0.0032494588098937417,
                  0.0011411110215227304,
                  0.0,
                  -0.17801616284881913},
                 1e-13);
  // float32 to float precision.
  require_values(
      cross_entropy(pattern({2, 3, 2, 3}, 0.7, 0.3, 2.0, DType::F32), t, w.to(DType::F32)),
      {2.4204817433196366}, 1e-6);
  // N×C logits with N targets.
  Tensor x2 = pattern({4, 5}, 0.3, 0.1, 3.0);
  require_values(cross_entropy(x2, labels({4, 0, 255, 2}, {4})), {1.310960719904603}, 1e-13);
}

TEST_CASE("cross_entropy is stable on huge logits", "[loss][cross_entropy]") {
  // logits (1000, 1002), target 0: nll = log(1 + e²) exactly representable inputs, no overflow.
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = Tensor::from_doubles({1000, 1002}, {1, 2}, dt);
    require_values(cross_entropy(x, labels({0}, {1})), {std::log1p(std::exp(2.0))}, 1e-6);
  }
}

TEST_CASE("cross_entropy reads non-contiguous logits and targets", "[loss][cross_entropy]") {
  Generator gen(2);
  Tensor x = pattern({2, 4, 3, 6});
  Tensor t = random_labels({2, 3, 6}, 4, 255, gen);
  Tensor xv = narrow(x, 3, 1, 4), tv = narrow(t, 2, 1, 4);
  REQUIRE_FALSE(xv.is_contiguous());
  require_close(cross_entropy(xv, tv, Tensor(), 255, Reduction::None),
                cross_entropy(xv.clone(), tv.clone(), Tensor(), 255, Reduction::None), 0, 0);
}

TEST_CASE("cross_entropy gradients match finite differences", "[loss][cross_entropy][grad]") {
  Generator gen(17);
  Tensor x = random_input({2, 5, 3, 7}, gen, -2, 2);
  Tensor t = random_labels({2, 3, 7}, 5, 255, gen);
  Tensor w = rand_uniform({5}, 0.5, 2.0, gen, DType::F64);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    INFO("reduction " << static_cast<int>(r));
    gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, Tensor(), 255, r); },
        {x});
    gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, w, 255, r); },
              {x});
  }
  Tensor x2 = random_input({7, 3}, gen, -2, 2);
  Tensor t2 = labels({0, 2, 1, 255, 1, 0, 2}, {7});
  Tensor w3 = Tensor::from_doubles({0.5, 2.0, 1.5}, {3}, DType::F64);
  gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t2, w3); }, {x2});
}

TEST_CASE("cross_entropy gives no gradient to the class weights", "[loss][cross_entropy][grad]") {
  Tensor x = Tensor::from_doubles({0, 1, 2, 3}, {1, 2, 1, 2}, DType::F64).set_requires_grad(true);
  Tensor w = Tensor::from_doubles({1, 2}, {2}, DType::F64).set_requires_grad(true);
  cross_entropy(x, labels({0, 1}, {1, 1, 2}), w).backward();
  REQUIRE(x.grad().defined());
  REQUIRE_FALSE(w.grad().defined());
}

TEST_CASE("cross_entropy rejects bad input with the op's name", "[loss][cross_entropy][errors]") {
  Tensor x = Tensor::zeros({1, 2, 1, 2});
  Tensor t = labels({0, 1}, {1, 1, 2});
  require_error(
      [&] {
        cross_entropy(x, Tensor::zeros({1, 1, 2}));
      },
      "cross_entropy: target must hold int64 class indices, got float32[1, 1, 2]");
  require_error(
      [&] {
        cross_entropy(x, labels({0, 1}, {1, 2}));
      },
      "cross_entropy: target must have shape [1, 1, 2] to match logits");
  require_error(
      [&] {
        cross_entropy(x, labels({0, 1, 0}, {1, 1, 3}));
      },
      "cross_entropy: target must have shape");
  require_error([&] { cross_entropy(x, t, Tensor::ones({3})); },
                "cross_entropy: class_weights must have shape [2], got float32[3]");
  require_error([&] { cross_entropy(x, t, Tensor::ones({2}, DType::F64)); },
                "cross_entropy: logits is float32");
  require_error(
      [&] {
        cross_entropy(x, labels({0, 2}, {1, 1, 2}));
      },
      "cross_entropy: target value 2 at flat index 1 is outside [0, 2) and is not ignore_index "
      "255");
  require_error(
      [&] {
        cross_entropy(x, labels({-1, 0}, {1, 1, 2}));
      },
      "cross_entropy: target value -1");
  require_error(
      [&] {
        cross_entropy(Tensor::zeros({4}), labels({0, 0, 0, 0}, {4}));
      },
      "cross_entropy: logits must be N×C or N×C×H×W");
  require_error(
      [&] {
        cross_entropy(Tensor::zeros({1, 2}, DType::I64), labels({0}, {1}));
      },
      "cross_entropy: logits must be float32 or float64");
  require_error([&] { cross_entropy(x, Tensor()); },
                "cross_entropy: target is an undefined tensor");
}
