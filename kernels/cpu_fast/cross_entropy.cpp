#include "kernels/cpu_fast/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu_fast/thread_pool.h"

namespace rtseg::cpu_fast {

namespace {

constexpr int64_t kBlock = 256;  // pixels per task: C planes of them stay in L1/L2

// Runs body(n, s0, s1) over blocks of pixels of every image on the pool.
template <typename Body>
void for_pixel_blocks(const cpu::ClassMapGeometry& g, const Body& body) {
  const int64_t blocks = (g.s + kBlock - 1) / kBlock;
  parallel_for(g.n * blocks, [&](int64_t t) {
    const int64_t n = t / blocks, s0 = (t % blocks) * kBlock;
    body(n, s0, std::min(g.s, s0 + kBlock));
  });
}

// m[j] = max_c x[c][j] and total[j] = Σ_c exp(x[c][j] − m[j]) for the block's pixels, in the
// reference's order (c ascending); e[c·len + j] keeps each exp when e is given.
void block_softmax_terms(float* m, float* total, float* e, const float* xn, int64_t c, int64_t s,
                         int64_t s0, int64_t len) {
  for (int64_t j = 0; j < len; ++j) m[j] = xn[s0 + j];
  for (int64_t k = 1; k < c; ++k) {
    const float* row = xn + k * s + s0;
    for (int64_t j = 0; j < len; ++j) m[j] = std::max(m[j], row[j]);
  }
  for (int64_t j = 0; j < len; ++j) total[j] = 0.0f;
  for (int64_t k = 0; k < c; ++k) {
    const float* row = xn + k * s + s0;
    for (int64_t j = 0; j < len; ++j) {
      const float v = std::exp(row[j] - m[j]);
      if (e != nullptr) e[k * len + j] = v;
      total[j] += v;
    }
  }
}

}  // namespace

void cross_entropy_pixels(float* loss, float* weight, float* prob, const float* logits,
                          const int64_t* target, const float* class_weights,
                          const cpu::ClassMapGeometry& g, int64_t ignore_index) {
  for_pixel_blocks(g, [&](int64_t n, int64_t s0, int64_t s1) {
    float m[kBlock], total[kBlock];
    const float* xn = logits + n * g.c * g.s;
    const int64_t len = s1 - s0;
    block_softmax_terms(m, total, nullptr, xn, g.c, g.s, s0, len);
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = n * g.s + s0 + j, y = target[i];
      if (y == ignore_index) {
        loss[i] = weight[i] = 0.0f;
        if (prob) prob[i] = 0.0f;
        continue;
      }
      const float x_y = xn[y * g.s + s0 + j];
      const float w = class_weights ? class_weights[y] : 1.0f;
      loss[i] = w * (std::log(total[j]) - (x_y - m[j]));
      weight[i] = w;
      if (prob) prob[i] = std::exp(x_y - m[j]) / total[j];
    }
  });
}

void cross_entropy_backward(const Exec&, float* grad, const float* logits, const int64_t* target,
                            const float* class_weights, const cpu::ClassMapGeometry& g,
                            int64_t ignore_index, const cpu::CrossEntropyGradScale<float>& scale) {
  for_pixel_blocks(g, [&](int64_t n, int64_t s0, int64_t s1) {
    thread_local std::vector<float> e;
    float m[kBlock], total[kBlock], k[kBlock];
    const float* xn = logits + n * g.c * g.s;
    float* gn = grad + n * g.c * g.s;
    const int64_t len = s1 - s0;
    if (e.size() < static_cast<size_t>(g.c * kBlock)) e.resize(static_cast<size_t>(g.c * kBlock));
    block_softmax_terms(m, total, e.data(), xn, g.c, g.s, s0, len);
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = n * g.s + s0 + j, y = target[i];
      k[j] = y == ignore_index ? 0.0f : scale.at(i) * (class_weights ? class_weights[y] : 1.0f);
    }
    for (int64_t c = 0; c < g.c; ++c) {
      float* row = gn + c * g.s + s0;
      const float* ec = e.data() + c * len;
      for (int64_t j = 0; j < len; ++j) {
        const float p = ec[j] / total[j];
        const int64_t y = target[n * g.s + s0 + j];
        row[j] = k[j] == 0.0f ? 0.0f : k[j] * (c == y ? p - 1.0f : p);
      }
    }
  });
}

}  // namespace rtseg::cpu_fast
