// matmul and linear: hand-checked values and gradients, agreement with a direct sum, finite
// differences, and rejection of bad input.
#include "core/cuda_runtime.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// x·Wᵀ + b written out directly, independent of the kernels.
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
  const std::vector<double> xv = x.to_doubles(), wv = w.to_doubles();
  std::vector<double> y(n * out);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.defined() ? b.to_doubles()[o] : 0.0;
      for (int64_t p = 0; p < in; ++p) acc += xv[i * in + p] * wv[o * in + p];
      y[i * out + o] = acc;
    }
  return Tensor::from_doubles(y, {n, out}, DType::F64);
}

}  // namespace

TEST_CASE("matmul hand-checked", "[linear]") {
  // [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]]: 7+18+33 = 58, 8+20+36 = 64,
  // 28+45+66 = 139, 32+50+72 = 154.
  Tensor a = Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_doubles({7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor c = matmul(a, b);
  REQUIRE(c.shape() == Shape{2, 2});
  require_values(c, {58, 64, 139, 154});
  // Gradients with dc = ones: da = ones·bᵀ = row sums of b (15, 19, 23) in every row;
  // db = aᵀ·ones = column sums of a (5, 7, 9) in every column.
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  sum(matmul(a, b)).backward();
  require_values(a.grad(), {15, 19, 23, 15, 19, 23});
  require_values(b.grad(), {5, 5, 7, 7, 9, 9});
}

TEST_CASE("linear hand-checked: x·Wᵀ + b", "[linear]") {
  // W = [[1,0,-1],[2,1,0]], b = (0.5, -1): row (1,2,3) -> (1−3+0.5, 2+2−1) = (−1.5, 3);
  // row (4,5,6) -> (4−6+0.5, 8+5−1) = (−1.5, 12).
  Tensor x = Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::from_doubles({1, 0, -1, 2, 1, 0}, {2, 3});
  Tensor b = Tensor::from_doubles({0.5, -1}, {2});
  require_values(linear(x, w, b), {-1.5, 3, -1.5, 12});
  require_values(linear(x, w), {-2, 4, -2, 13});
  // With dy = ones: dx = ones·W = column sums of W (3, 1, −1) in each row; dW = onesᵀ·x =
  // column sums of x (5, 7, 9) in each row; db = 2 rows each.
  for (Tensor t : {x, w, b}) t.set_requires_grad(true);
  sum(linear(x, w, b)).backward();
  require_values(x.grad(), {3, 1, -1, 3, 1, -1});
  require_values(w.grad(), {5, 7, 9, 5, 7, 9});
  require_values(b.grad(), {2, 2});
}

TEST_CASE("linear matches a direct sum, and float32 agrees with float64", "[linear]") {
  Generator gen(2);
  for (const auto& [n, in, out] :
       std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 5, 7}, {2, 17, 4}, {9, 8, 1}}) {
    INFO(n << "×" << in << " -> " << out);
    Tensor x = rand_uniform({n, in}, -1, 1, gen, DType::F64);
    Tensor w = rand_uniform({out, in}, -1, 1, gen, DType::F64);
    Tensor b = rand_uniform({out}, -1, 1, gen, DType::F64);
    require_close(linear(x, w, b), naive_linear(x, w, b), 1e-12, 1e-12);
    require_close(linear(x, w), naive_linear(x, w, Tensor()), 1e-12, 1e-12);
    require_close(linear(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32)), linear(x, w, b),
                  1e-5, 1e-5);
    // matmul is linear without bias and with W transposed: matmul(x, Wᵀ) where Wᵀ is built by
    // hand so the comparison does not rely on a transpose op.
    const std::vector<double> wv = w.to_doubles();
    std::vector<double> wt(wv.size());
    for (int64_t o = 0; o < out; ++o)
      for (int64_t p = 0; p < in; ++p) wt[p * out + o] = wv[o * in + p];
    require_close(matmul(x, Tensor::from_doubles(wt, {in, out}, DType::F64)),
                  naive_linear(x, w, Tensor()), 1e-12, 1e-12);
  }
}

TEST_CASE("matmul and linear read non-contiguous views", "[linear]") {
  Generator gen(6);
  Tensor big = rand_uniform({5, 9}, -1, 1, gen, DType::F64);
  Tensor a = narrow(big, 1, 2, 4);  // 5×4, row stride 9
  REQUIRE_FALSE(a.is_contiguous());
  Tensor b = rand_uniform({4, 3}, -1, 1, gen, DType::F64);
  require_close(matmul(a, b), matmul(a.clone(), b), 0, 0);
  Tensor w = narrow(rand_uniform({3, 6}, -1, 1, gen, DType::F64), 1, 1, 4);
  require_close(linear(a, w), linear(a.clone(), w.clone()), 0, 0);
}

TEST_CASE("matmul and linear gradients match finite differences", "[linear][grad]") {
  Generator gen(13);
  Tensor a = random_input({3, 5}, gen), b = random_input({5, 7}, gen);
  gradcheck([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b});
  Tensor x = random_input({4, 7}, gen), w = random_input({3, 7}, gen),
         bias = random_input({3}, gen);
  gradcheck([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
  gradcheck([](const std::vector<Tensor>& v) { return linear(v[0], v[1]); }, {x, w});
  // Chained, so a non-trivial gradient flows into the second op's inputs.
  gradcheck([](const std::vector<Tensor>& v) { return linear(matmul(v[0], v[1]), v[2]); },
            {a, b, random_input({2, 7}, gen)});
}

TEST_CASE("linear computes only the gradients that are needed", "[linear][grad]") {
  Tensor x = Tensor::from_doubles({1, 2, 3, 4}, {2, 2}, DType::F64);
  Tensor w = Tensor::from_doubles({1, -1}, {1, 2}, DType::F64);
  Tensor b = Tensor::from_doubles({0}, {1}, DType::F64);
  w.set_requires_grad(true);
  sum(linear(x, w, b)).backward();
  require_values(w.grad(), {4, 6});
  REQUIRE_FALSE(x.grad().defined());
  REQUIRE_FALSE(b.grad().defined());
  REQUIRE_FALSE(linear(x, w.detach(), b).requires_grad());
  // matmul with only one side requiring a gradient, each way round: dB = xᵀ·ones = column sums
  // of x (4, 6) repeated; dA = ones·Bᵀ = row sums of B.
  Tensor bm = Tensor::from_doubles({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64);
  bm.set_requires_grad(true);
  sum(matmul(x, bm)).backward();
  require_values(bm.grad(), {4, 4, 4, 6, 6, 6});
  REQUIRE_FALSE(x.grad().defined());
  x.set_requires_grad(true);
  sum(matmul(x, bm.detach())).backward();
  require_values(x.grad(), {6, 15, 6, 15});
}

TEST_CASE("matmul and linear reject bad input with the op's name and the shapes",
          "[linear][errors]") {
  Tensor a = Tensor::zeros({2, 3});
  require_error(
      [&] {
        matmul(a, Tensor::zeros({4, 5}));
      },
      "matmul: a is float32[2, 3] cpu and b is float32[4, 5] cpu: inner dimensions 3 and 4 differ");
  require_error([&] { matmul(Tensor::zeros({2, 3, 1}), a); }, "matmul: a must have 2 dimensions");
  require_error([&] { matmul(a, Tensor::zeros({3})); }, "matmul: b must have 2 dimensions");
  require_error(
      [&] {
        matmul(a, Tensor::zeros({3, 2}, DType::F64));
      },
      "matmul: a is float32[2, 3] cpu but b is float64");
  require_error([&] { matmul(Tensor(), a); }, "matmul: a is an undefined tensor");
  require_error([&] { matmul(a.to(DType::I64), a); }, "matmul: a must be float32 or float64");

  Tensor x = Tensor::zeros({4, 3});
  Tensor w = Tensor::zeros({5, 3});
  require_error(
      [&] {
        linear(x, Tensor::zeros({5, 2}));
      },
      "linear: input float32[4, 3] cpu has 3 features but weight float32[5, 2] cpu expects 2");
  require_error([&] { linear(Tensor::zeros({3}), w); }, "linear: input must have 2 dimensions");
  require_error(
      [&] {
        linear(x, Tensor::zeros({5, 3, 1}));
      },
      "linear: weight must have 2 dimensions");
  require_error(
      [&] { linear(x, w, Tensor::zeros({4})); },
      "linear: bias float32[4] cpu has 4 elements but weight float32[5, 3] cpu has 5 outputs");
  require_error(
      [&] {
        linear(x, w, Tensor::zeros({5, 1}));
      },
      "linear: bias must have 1 dimensions");
  require_error([&] { linear(x, w.to(DType::F64)); },
                "linear: input is float32[4, 3] cpu but weight is float64");
  require_error([&] { linear(x, w, Tensor::zeros({5}, DType::F64)); },
                "linear: input is float32[4, 3] cpu but bias is float64");
  require_error([&] { linear(x, Tensor()); }, "linear: weight is an undefined tensor");
  if (cuda_available()) {
    require_error([&] { linear(x, w.to(Device::cuda(0))); },
                  "linear: input is on cpu but weight is on cuda:0");
  }
}
