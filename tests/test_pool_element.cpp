// The per-element pooling formulas that the CUDA kernels run one per thread
// (kernels/pool_element.h), checked here on the CPU against the reference loops of
// kernels/cpu/pool.h: forward outputs, max pooling's argmax (ties, NaN), and the backward gathers
// against the reference scatters, all bit for bit, over exhaustive small geometries (padding,
// ceil mode, both divisor rules, rectangular windows). This is what makes the GPU pooling path's
// index arithmetic tested on machines without a GPU.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/pool.h"
#include "kernels/pool_element.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// Values from a small set so that max pooling meets ties; optionally one NaN.
template <typename T>
std::vector<T> plane_values(int64_t n, Generator& gen, bool with_nan = false) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v)
    x = static_cast<T>(gen.randint(7)) - T(3) + static_cast<T>(gen.uniform() < 0.5 ? 0.25 : 0);
  if (with_nan && n > 0)
    v[static_cast<size_t>(gen.randint(n))] = std::numeric_limits<T>::quiet_NaN();
  return v;
}

// Bitwise equality that treats NaN == NaN (the max pooling NaN rule).
template <typename T>
bool same(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

// Pooling geometries: every 1-D setting with in ≤ 7, kernel ≤ 4, stride ≤ 3, valid padding, on
// the rows, paired with a few column settings (so windows are rectangular too).
std::vector<Pool2dGeometry> geometries(bool ceil_mode) {
  struct Axis {
    int64_t in, k, s, p;
  };
  std::vector<Axis> rows;
  for (int64_t in = 1; in <= 7; ++in) {
    for (int64_t k = 1; k <= 4; ++k) {
      for (int64_t s = 1; s <= 3; ++s) {
        for (int64_t p = 0; p <= k / 2; ++p) {
          if (pool_output_size(in, k, s, p, ceil_mode) > 0) rows.push_back({in, k, s, p});
        }
      }
    }
  }
  const std::vector<Axis> cols = {{5, 3, 2, 1}, {4, 2, 1, 0}, {6, 4, 3, 2}, {1, 1, 1, 0}};
  std::vector<Pool2dGeometry> out;
  for (const Axis& r : rows) {
    for (const Axis& c : cols) {
      Pool2dGeometry g;
      g.planes = 2;
      g.in_h = r.in, g.kernel_h = r.k, g.stride_h = r.s, g.pad_h = r.p;
      g.in_w = c.in, g.kernel_w = c.k, g.stride_w = c.s, g.pad_w = c.p;
      g.out_h = pool_output_size(r.in, r.k, r.s, r.p, ceil_mode);
      g.out_w = pool_output_size(c.in, c.k, c.s, c.p, ceil_mode);
      out.push_back(g);
    }
  }
  return out;
}

template <typename T>
void check_spatial_pooling(Generator& gen) {
  for (bool ceil_mode : {false, true}) {
    for (const Pool2dGeometry& g : geometries(ceil_mode)) {
      INFO("in " << g.in_h << "×" << g.in_w << " kernel " << g.kernel_h << "×" << g.kernel_w
                 << " stride " << g.stride_h << "×" << g.stride_w << " pad " << g.pad_h << "×"
                 << g.pad_w << " ceil " << ceil_mode);
      const int64_t in_n = g.planes * g.in_h * g.in_w, out_n = g.planes * g.out_h * g.out_w;
      const int64_t in_hw = g.in_h * g.in_w, out_hw = g.out_h * g.out_w;
      const std::vector<T> x = plane_values<T>(in_n, gen, gen.uniform() < 0.2);
      const std::vector<T> go = plane_values<T>(out_n, gen);
      for (bool include_pad : {false, true}) {
        std::vector<T> ref(out_n), ref_grad(in_n);
        cpu::avg_pool2d_forward(cpu::Exec{}, ref.data(), x.data(), g, include_pad);
        cpu::avg_pool2d_backward(cpu::Exec{}, ref_grad.data(), go.data(), g, include_pad);
        for (int64_t o = 0; o < out_n; ++o) {
          const int64_t p = o / out_hw, oh = o % out_hw / g.out_w, ow = o % g.out_w;
          REQUIRE(
              same(pool::avg_pool_output(x.data() + p * in_hw, g, oh, ow, include_pad), ref[o]));
        }
        for (int64_t i = 0; i < in_n; ++i) {
          const int64_t p = i / in_hw, h = i % in_hw / g.in_w, w = i % g.in_w;
          REQUIRE(pool::avg_pool_input_grad(go.data() + p * out_hw, g, h, w, include_pad) ==
                  ref_grad[i]);
        }
      }
      std::vector<T> ref(out_n), ref_grad(in_n);
      std::vector<int64_t> argmax(out_n);
      cpu::max_pool2d_forward(cpu::Exec{}, ref.data(), argmax.data(), x.data(), g);
      cpu::scatter_to_argmax(cpu::Exec{}, ref_grad.data(), go.data(), argmax.data(), g.planes,
                             in_hw, out_hw);
      for (int64_t o = 0; o < out_n; ++o) {
        const int64_t p = o / out_hw, oh = o % out_hw / g.out_w, ow = o % g.out_w;
        const pool::MaxAt<T> m = pool::max_pool_output(x.data() + p * in_hw, g, oh, ow);
        REQUIRE(same(m.value, ref[o]));
        REQUIRE(m.at == argmax[o]);
      }
      for (int64_t i = 0; i < in_n; ++i) {
        const int64_t p = i / in_hw, h = i % in_hw / g.in_w, w = i % g.in_w;
        REQUIRE(pool::max_pool_input_grad(go.data() + p * out_hw, argmax.data() + p * out_hw, g, h,
                                          w) == ref_grad[i]);
      }
    }
  }
}

template <typename T>
void check_adaptive_and_channel_pooling(Generator& gen) {
  for (int64_t in_h = 1; in_h <= 9; ++in_h) {
    for (int64_t out_h = 1; out_h <= 9; ++out_h) {
      const pool::AdaptiveGeometry g{2, in_h, 7, out_h, 1 + (in_h + out_h) % 9};
      INFO("adaptive " << g.in_h << "×" << g.in_w << " -> " << g.out_h << "×" << g.out_w);
      const int64_t in_hw = g.in_h * g.in_w, out_hw = g.out_h * g.out_w;
      const std::vector<T> x = plane_values<T>(g.planes * in_hw, gen);
      const std::vector<T> go = plane_values<T>(g.planes * out_hw, gen);
      std::vector<T> ref(g.planes * out_hw), ref_grad(g.planes * in_hw);
      cpu::adaptive_avg_pool2d_forward(cpu::Exec{}, ref.data(), x.data(), g.planes, g.in_h, g.in_w,
                                       g.out_h, g.out_w);
      cpu::adaptive_avg_pool2d_backward(cpu::Exec{}, ref_grad.data(), go.data(), g.planes, g.in_h,
                                        g.in_w, g.out_h, g.out_w);
      for (int64_t o = 0; o < g.planes * out_hw; ++o) {
        const int64_t p = o / out_hw, oh = o % out_hw / g.out_w, ow = o % g.out_w;
        REQUIRE(pool::adaptive_avg_output(x.data() + p * in_hw, g, oh, ow) == ref[o]);
      }
      for (int64_t i = 0; i < g.planes * in_hw; ++i) {
        const int64_t p = i / in_hw, h = i % in_hw / g.in_w, w = i % g.in_w;
        REQUIRE(pool::adaptive_avg_input_grad(go.data() + p * out_hw, g, h, w) == ref_grad[i]);
      }
    }
  }
  for (int64_t c = 1; c <= 6; ++c) {
    const int64_t n = 2, s = 5;
    INFO("channels " << c);
    const std::vector<T> x = plane_values<T>(n * c * s, gen, c == 4);
    std::vector<T> max_ref(n * s), mean_ref(n * s);
    std::vector<int64_t> argmax(n * s);
    cpu::channel_max_forward(cpu::Exec{}, max_ref.data(), argmax.data(), x.data(), n, c, s);
    cpu::channel_mean_forward(cpu::Exec{}, mean_ref.data(), x.data(), n, c, s);
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t i = 0; i < s; ++i) {
        const pool::MaxAt<T> m = pool::channel_max_at(x.data() + b * c * s, c, s, i);
        REQUIRE(same(m.value, max_ref[b * s + i]));
        REQUIRE(m.at == argmax[b * s + i]);
        REQUIRE(same(pool::channel_mean_at(x.data() + b * c * s, c, s, i), mean_ref[b * s + i]));
      }
    }
  }
}

}  // namespace

TEST_CASE("the outputs covering an input index are exactly those whose window holds it", "[pool]") {
  for (int64_t in = 1; in <= 12; ++in) {
    for (int64_t k = 1; k <= 6; ++k) {
      for (int64_t s = 1; s <= 4; ++s) {
        for (int64_t p = 0; p <= k / 2; ++p) {
          for (bool ceil_mode : {false, true}) {
            const int64_t out = pool_output_size(in, k, s, p, ceil_mode);
            for (int64_t i = 0; i < in; ++i) {
              INFO("in " << in << " k " << k << " s " << s << " p " << p << " i " << i);
              const PoolSpan span = pool_outputs_covering(i, k, s, p, out);
              for (int64_t o = 0; o < out; ++o) {
                const bool holds = o * s - p <= i && i < o * s - p + k;
                REQUIRE(holds == (o >= span.begin && o < span.end));
              }
            }
          }
        }
      }
    }
  }
  for (int64_t in = 1; in <= 20; ++in) {
    for (int64_t out = 1; out <= 20; ++out) {
      for (int64_t i = 0; i < in; ++i) {
        INFO("adaptive in " << in << " out " << out << " i " << i);
        const PoolSpan span = adaptive_outputs_covering(i, in, out);
        for (int64_t o = 0; o < out; ++o) {
          const bool holds = adaptive_start(o, in, out) <= i && i < adaptive_end(o, in, out);
          REQUIRE(holds == (o >= span.begin && o < span.end));
        }
      }
    }
  }
}

TEST_CASE("the GPU's per-element pooling formulas equal the reference loops bit for bit",
          "[pool]") {
  Generator gen(31);
  check_spatial_pooling<float>(gen);
  check_spatial_pooling<double>(gen);
  check_adaptive_and_channel_pooling<float>(gen);
  check_adaptive_and_channel_pooling<double>(gen);
}
