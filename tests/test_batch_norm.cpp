// batch_norm: hand-checked training / eval outputs, the running-statistics update over two
// steps, a naive formula on odd shapes, gradients in both modes, bad input.
#include <algorithm>
#include <cmath>

#include "kernels/channel_chunks.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// y = γ·(x − μ)/sqrt(σ² + eps) + β over an N×C×S input, written out per element.
std::vector<double> naive_batch_norm(const Tensor& x, const std::vector<double>& mean,
                                     const std::vector<double>& var,
                                     const std::vector<double>& gamma,
                                     const std::vector<double>& beta, double eps) {
  const std::vector<double> v = x.to_doubles();
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  std::vector<double> out(v.size());
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t k = 0; k < c; ++k) {
      for (int64_t i = 0; i < s; ++i) {
        const size_t at = static_cast<size_t>((b * c + k) * s + i);
        out[at] = gamma[k] * (v[at] - mean[k]) / std::sqrt(var[k] + eps) + beta[k];
      }
    }
  }
  return out;
}

// Per-channel mean and biased variance of an N×C×S input, the textbook way.
void naive_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) {
  const std::vector<double> v = x.to_doubles();
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  mean.assign(c, 0.0);
  var.assign(c, 0.0);
  for (int64_t k = 0; k < c; ++k) {
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t i = 0; i < s; ++i) mean[k] += v[static_cast<size_t>((b * c + k) * s + i)];
    }
    mean[k] /= static_cast<double>(n * s);
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t i = 0; i < s; ++i) {
        const double d = v[static_cast<size_t>((b * c + k) * s + i)] - mean[k];
        var[k] += d * d;
      }
    }
    var[k] /= static_cast<double>(n * s);
  }
}

}  // namespace

TEST_CASE("batch_norm training: batch statistics, hand-checked", "[batch_norm]") {
  // 2×2×1×2: channel 0 holds {1, 3, 5, 7} (mean 4, biased variance 5), channel 1 holds
  // {0, 2, 0, 2} (mean 1, variance 1).
  Tensor x = Tensor::from_doubles({1, 3, 0, 2, 5, 7, 0, 2}, {2, 2, 1, 2});
  Tensor gamma = Tensor::from_doubles({2, -1}, {2});
  Tensor beta = Tensor::from_doubles({1, 0.5}, {2});
  const double eps = 1e-5, s0 = std::sqrt(5 + eps), s1 = std::sqrt(1 + eps);
  Tensor y = batch_norm(x, gamma, beta, Tensor(), Tensor(), true);
  REQUIRE(y.shape() == x.shape());
  require_values(y, {1 - 6 / s0, 1 - 2 / s0, 0.5 + 1 / s1, 0.5 - 1 / s1,  //
                     1 + 2 / s0, 1 + 6 / s0, 0.5 + 1 / s1, 0.5 - 1 / s1});
  // Without γ and β, and with a larger eps.
  const double t0 = std::sqrt(5.5), t1 = std::sqrt(1.5);
  require_values(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.5),
                 {-3 / t0, -1 / t0, -1 / t1, 1 / t1, 1 / t0, 3 / t0, -1 / t1, 1 / t1});
}

TEST_CASE("batch_norm updates running statistics with the unbiased variance", "[batch_norm]") {
  Tensor x = Tensor::from_doubles({1, 3, 0, 2, 5, 7, 0, 2}, {2, 2, 1, 2});
  Tensor rm = Tensor::from_doubles({0, 0}, {2});
  Tensor rv = Tensor::from_doubles({1, 1}, {2});
  batch_norm(x, Tensor(), Tensor(), rm, rv, true);
  // Step 1 (momentum 0.1, n = 4): means (4, 1), unbiased variances (5, 1)·4/3.
  //   rm = 0.1·(4, 1) = (0.4, 0.1);  rv = 0.9 + 0.1·(20/3, 4/3) = (1.5666…, 1.0333…)
  require_values(rm, {0.4, 0.1});
  require_values(rv, {0.9 + 2 / 3., 0.9 + 0.4 / 3});
  // Step 2 on 2·x: means (8, 2), unbiased variances (80/3, 16/3).
  //   rm = 0.9·(0.4, 0.1) + 0.1·(8, 2) = (1.16, 0.29)
  //   rv = 0.9·(1.5666…, 1.0333…) + 0.1·(80/3, 16/3) = (1.41 + 8/3, 0.93 + 1.6/3)
  batch_norm(x * 2.0, Tensor(), Tensor(), rm, rv, true);
  require_values(rm, {1.16, 0.29});
  require_values(rv, {1.41 + 8 / 3., 0.93 + 1.6 / 3});

  // Another momentum, in float64, through strided views of the buffers (every other element).
  Tensor buf = Tensor::from_doubles({0, -7, 0, -7, 1, -7, 1, -7}, {8}, DType::F64);
  Tensor vm = make_view(buf, 0, {2}, {2});
  Tensor vv = make_view(buf, 4, {2}, {2});
  REQUIRE(!vm.is_contiguous());
  batch_norm(x.to(DType::F64), Tensor(), Tensor(), vm, vv, true, 0.25);
  // rm = 0.25·(4, 1); rv = 0.75 + 0.25·(20/3, 4/3); the −7s in between are untouched.
  require_values(buf, {1, -7, 0.25, -7, 0.75 + 5 / 3., -7, 0.75 + 1 / 3., -7}, 1e-12);

  // Eval leaves the buffers alone.
  batch_norm(x, Tensor(), Tensor(), rm, rv, false);
  require_values(rm, {1.16, 0.29});
}

TEST_CASE("batch_norm eval normalises with the running statistics", "[batch_norm]") {
  Tensor x = Tensor::from_doubles({1, 3, 0, 2, 5, 7, 0, 2}, {2, 2, 1, 2});
  Tensor rm = Tensor::from_doubles({2, -1}, {2});
  Tensor rv = Tensor::from_doubles({4, 0.25}, {2});
  Tensor gamma = Tensor::from_doubles({3, 2}, {2});
  Tensor beta = Tensor::from_doubles({0, 1}, {2});
  const double eps = 1e-5, s0 = std::sqrt(4 + eps), s1 = std::sqrt(0.25 + eps);
  // y = γ(x − rm)/sqrt(rv + eps) + β
  require_values(batch_norm(x, gamma, beta, rm, rv, false),
                 {3 * -1 / s0, 3 * 1 / s0, 1 + 2 * 1 / s1, 1 + 2 * 3 / s1,  //
                  3 * 3 / s0, 3 * 5 / s0, 1 + 2 * 1 / s1, 1 + 2 * 3 / s1});
  // A batch of one is fine in eval.
  require_values(
      batch_norm(Tensor::from_doubles({6, 1}, {1, 2}), Tensor(), Tensor(), rm, rv, false),
      {4 / s0, 2 / s1});
}

TEST_CASE("batch_norm matches the naive formula on odd shapes", "[batch_norm]") {
  Generator gen(21);
  for (const Shape& shape : std::vector<Shape>{{3, 5, 7, 9}, {2, 3, 1, 1}, {7, 4}, {2, 3, 5}}) {
    INFO(shape_str(shape));
    const int64_t c = shape[1];
    // An offset mean checks that the variance is not computed as E[x²] − E[x]² in float.
    Tensor x = rand_uniform(shape, 99.0, 101.0, gen);
    Tensor gamma = rand_uniform({c}, 0.5, 1.5, gen);
    Tensor beta = rand_uniform({c}, -1.0, 1.0, gen);
    std::vector<double> mean, var;
    naive_stats(x, mean, var);
    const std::vector<double> g = gamma.to_doubles(), b = beta.to_doubles();
    require_values(batch_norm(x, gamma, beta, Tensor(), Tensor(), true),
                   naive_batch_norm(x, mean, var, g, b, 1e-5), 1e-4);
    Tensor rm = rand_uniform({c}, 99.0, 101.0, gen), rv = rand_uniform({c}, 0.5, 2.0, gen);
    require_values(batch_norm(x, gamma, beta, rm, rv, false),
                   naive_batch_norm(x, rm.to_doubles(), rv.to_doubles(), g, b, 1e-5), 1e-4);
  }
  // A non-contiguous input gives the same result as its contiguous copy.
  Tensor base = rand_uniform({2, 3, 4, 9}, -1.0, 1.0, gen);
  Tensor view = narrow(base, 3, 1, 6);
  REQUIRE(!view.is_contiguous());
  require_values(
      batch_norm(view, Tensor(), Tensor(), Tensor(), Tensor(), true),
      batch_norm(view.clone(), Tensor(), Tensor(), Tensor(), Tensor(), true).to_doubles(), 0.0);
}

TEST_CASE("batch_norm gradients match finite differences in both modes", "[batch_norm][grad]") {
  Generator gen(22);
  for (const Shape& shape : std::vector<Shape>{{3, 2, 3, 5}, {5, 3}, {1, 3, 2, 3}}) {
    INFO(shape_str(shape));
    const int64_t c = shape[1];
    Tensor x = random_input(shape, gen, -2.0, 2.0);
    Tensor gamma = random_input({c}, gen, 0.5, 1.5);
    Tensor beta = random_input({c}, gen);
    Tensor rm = rand_uniform({c}, -0.5, 0.5, gen, DType::F64);
    Tensor rv = rand_uniform({c}, 0.5, 2.0, gen, DType::F64);
    // Training: full batch-statistics backward for dx, dγ, dβ; the running buffers do not
    // affect the output, so passing them (and updating them on every evaluation) is harmless.
    gradcheck(
        [&](const std::vector<Tensor>& t) { return batch_norm(t[0], t[1], t[2], rm, rv, true); },
        {x, gamma, beta});
    gradcheck(
        [](const std::vector<Tensor>& t) {
          return batch_norm(t[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
        },
        {x});
    gradcheck(
        [](const std::vector<Tensor>& t) {
          return batch_norm(t[0], t[1], Tensor(), Tensor(), Tensor(), true);
        },
        {x, gamma});
    // Eval: the affine backward.
    gradcheck(
        [&](const std::vector<Tensor>& t) { return batch_norm(t[0], t[1], t[2], rm, rv, false); },
        {x, gamma, beta});
    gradcheck(
        [&](const std::vector<Tensor>& t) {
          return batch_norm(t[0], Tensor(), t[1], rm, rv, false);
        },
        {x, beta});
  }
}

TEST_CASE("batch_norm backward gives only the gradients asked for", "[batch_norm][grad]") {
  Generator gen(23);
  Tensor x = rand_uniform({2, 3, 2, 2}, -1.0, 1.0, gen, DType::F64);
  Tensor gamma = random_input({3}, gen);
  Tensor beta = random_input({3}, gen);
  // x does not require a gradient; γ and β do. dβ = Σ g = number of elements per channel.
  batch_norm(x, gamma, beta, Tensor(), Tensor(), true)
      .backward(Tensor::ones({2, 3, 2, 2}, DType::F64));
  require_values(beta.grad(), {8, 8, 8});
  // Σ x̂ over a channel is 0 in training.
  require_values(gamma.grad(), {0, 0, 0}, 1e-9);
  REQUIRE(!x.grad().defined());
}

// The CUDA per-channel reductions (batch_norm, prelu) cut each channel into chunks and let every
// thread of a block walk its share with ChunkCursor; a value visited twice or never would be a
// silently wrong sum on the GPU. The walk is plain host-device code, so it is checked here:
// every (chunk, thread) pair of channel k, for block sizes 32..1024, visits exactly the channel's
// values, each once.
TEST_CASE("the CUDA reductions' chunk walk visits every value of a channel once", "[batch_norm]") {
  struct Case {
    int64_t n, c, s;
  };
  const std::vector<Case> cases = {{1, 1, 1},    {2, 3, 1},    {5, 2, 3},      {2, 7, 257},
                                   {3, 1, 4096}, {1, 5, 4097}, {2, 32, 57600}, {2, 960, 3600},
                                   {300, 2, 1},  {2, 1, 10000}};
  for (const Case& t : cases) {
    for (int64_t threads : {32, 256, 1024}) {
      const ChannelChunks plan = plan_channel_chunks(t.n, t.c, t.s, threads);
      const int64_t count = t.n * t.s;
      INFO("n " << t.n << " c " << t.c << " s " << t.s << " threads " << threads << ": "
                << plan.parts << " chunks of " << plan.chunk);
      REQUIRE(plan.chunk % threads == 0);
      REQUIRE(plan.parts * plan.chunk >= count);
      REQUIRE((plan.parts - 1) * plan.chunk < count);  // no empty chunk
      REQUIRE(plan.parts <= std::max<int64_t>(1, (1024 + t.c - 1) / t.c));
      for (int64_t k : {int64_t(0), t.c - 1}) {
        std::vector<int> seen(static_cast<size_t>(t.n * t.c * t.s), 0);
        for (int64_t p = 0; p < plan.parts; ++p) {
          for (int64_t th = 0; th < threads; ++th) {
            for (ChunkCursor at(plan, t.n, t.c, t.s, k, p, th, threads); at.valid(); at.advance()) {
              ++seen[static_cast<size_t>(at.offset())];
            }
          }
        }
        int64_t wrong = 0;
        for (int64_t b = 0; b < t.n; ++b) {
          for (int64_t kk = 0; kk < t.c; ++kk) {
            for (int64_t i = 0; i < t.s; ++i) {
              wrong += seen[static_cast<size_t>((b * t.c + kk) * t.s + i)] != (kk == k ? 1 : 0);
            }
          }
        }
        REQUIRE(wrong == 0);
      }
    }
  }
}

TEST_CASE("batch_norm rejects bad input with the op's name", "[batch_norm][errors]") {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor c3 = Tensor::ones({3});
  require_error(
      [&] {
        batch_norm(Tensor::zeros({1, 3}), c3, c3, c3, c3, true);
      },
      "batch_norm: training needs more than 1 value per channel, but input float32[1, 3]");
  require_error(
      [&] {
        batch_norm(Tensor::zeros({1, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      "(batch 1, 1 value per channel and image, e.g. a globally pooled 1×1 feature map) gives 1: "
      "train "
      "with a batch of 2 or more");
  require_error([&] { batch_norm(Tensor::zeros({3}), c3, c3, c3, c3, true); },
                "batch_norm: input must be N×C or N×C×H×W");
  require_error([&] { batch_norm(x, Tensor::ones({4}), c3, c3, c3, true); },
                "batch_norm: weight must have shape [3]");
  require_error(
      [&] {
        batch_norm(x, c3, Tensor::ones({3, 1}), c3, c3, true);
      },
      "batch_norm: bias must have shape [3]");
  require_error([&] { batch_norm(x, c3, c3, Tensor::ones({2}), c3, false); },
                "batch_norm: running_mean must have shape [3]");
  require_error([&] { batch_norm(x, Tensor::ones({3}, DType::F64), c3, c3, c3, true); },
                "batch_norm: input is float32");
  require_error([&] { batch_norm(x, c3, c3, Tensor(), Tensor(), false); },
                "batch_norm: running_mean and running_var are needed in eval mode");
  require_error([&] { batch_norm(x, c3, c3, c3, Tensor(), true); },
                "batch_norm: running_mean and running_var must both be defined");
  require_error(
      [&] {
        batch_norm(Tensor::zeros({2, 3}, DType::I64), c3, c3, c3, c3, true);
      },
      "batch_norm: input must be float32 or float64");
  require_error([&] { batch_norm(Tensor(), c3, c3, c3, c3, true); },
                "batch_norm: input is an undefined tensor");
}
