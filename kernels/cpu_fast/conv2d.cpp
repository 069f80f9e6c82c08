#include "kernels/cpu_fast/conv2d.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu_fast/depthwise_conv.h"
#include "kernels/cpu_fast/direct_conv.h"
#include "kernels/cpu_fast/gemm.h"
#include "kernels/cpu_fast/im2col.h"
#include "kernels/cpu_fast/thread_pool.h"

namespace rtseg::cpu_fast {

namespace {

// Scratch of a task (im2col blocks, weight-gradient partials), reused across calls.
std::vector<float>& scratch(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Output pixels per im2col block: a GEMM of useful size with an im2col block of at most ~1 MiB.
int64_t pixel_grain(const Conv2dGeometry& g) {
  const int64_t rows = g.c_per_group() * g.r * g.s;
  const int64_t by_gemm = gemm_column_grain(g.k_per_group(), g.oh * g.ow, rows);
  const int64_t by_scratch = std::max<int64_t>(16, (int64_t{1} << 18) / std::max<int64_t>(1, rows));
  return std::max<int64_t>(1, std::min(by_gemm, by_scratch / 16 * 16));
}

// y (rows × cols, leading dimension ld) = epilogue(y + bias[row] + residual) on a block the GEMM
// (or a depthwise plane) just wrote, while it is in cache; residual (may be null) is laid out as y.
// Each case is its own loop so it vectorises.
void finish_block(float* y, const float* bias, const float* residual, ConvEpilogue epilogue,
                  int64_t rows, int64_t cols, int64_t ld) {
  if (bias == nullptr && residual == nullptr && epilogue == ConvEpilogue::None) return;
  for (int64_t i = 0; i < rows; ++i) {
    const float b = bias ? bias[i] : 0.0f;
    float* row = y + i * ld;
    if (residual != nullptr) {
      const float* r = residual + i * ld;
      for (int64_t j = 0; j < cols; ++j) row[j] = (row[j] + b) + r[j];
      if (epilogue == ConvEpilogue::None) continue;
      for (int64_t j = 0; j < cols; ++j) row[j] = apply_epilogue(row[j], epilogue);
      continue;
    }
    switch (epilogue) {
      case ConvEpilogue::None:
        for (int64_t j = 0; j < cols; ++j) row[j] += b;
        break;
      case ConvEpilogue::Relu:
        for (int64_t j = 0; j < cols; ++j) row[j] = apply_epilogue(row[j] + b, ConvEpilogue::Relu);
        break;
      case ConvEpilogue::Relu6:
        for (int64_t j = 0; j < cols; ++j) row[j] = apply_epilogue(row[j] + b, ConvEpilogue::Relu6);
        break;
    }
  }
}

}  // namespace

ConvAlgorithm choose_conv_algorithm(const Conv2dGeometry& g) {
  if (g.groups == g.c && g.c_per_group() == 1) return ConvAlgorithm::Depthwise;
  if (g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0)
    return ConvAlgorithm::Pointwise;
  return g.groups == 1 ? ConvAlgorithm::Direct : ConvAlgorithm::Im2colGemm;
}

const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::Depthwise:
      return "depthwise rows";
    case ConvAlgorithm::Pointwise:
      return "1x1 gemm";
    case ConvAlgorithm::Direct:
      return "onednn direct";
    case ConvAlgorithm::Im2colGemm:
      return "im2col gemm";
  }
  return "?";
}

void conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                    const Conv2dGeometry& g, ConvEpilogue epilogue, const float* residual) {
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  const int64_t cg = g.c_per_group(), kg = g.k_per_group(), taps = g.r * g.s;
  const ConvAlgorithm algorithm = choose_conv_algorithm(g);
  if (algorithm == ConvAlgorithm::Direct && direct_conv_enabled() &&
      direct_conv_forward(y, x, w, bias, residual, g, epilogue))
    return;
  if (algorithm == ConvAlgorithm::Depthwise) {
    parallel_for(g.n * g.k, [&](int64_t t) {
      const int64_t n = t / g.k, k = t % g.k, c = k / kg;
      float* yp = y + t * plane_out;
      if (residual == nullptr) {
        depthwise_forward_plane(yp, x + (n * g.c + c) * plane_in, w + k * taps,
                                bias ? bias[k] : 0.0f, g, epilogue);
        return;
      }
      depthwise_forward_plane(yp, x + (n * g.c + c) * plane_in, w + k * taps, bias ? bias[k] : 0.0f,
                              g, ConvEpilogue::None);
      finish_block(yp, nullptr, residual + t * plane_out, epilogue, 1, plane_out, plane_out);
    });
    return;
  }
  const int64_t rows = cg * taps;  // the GEMM's inner dimension
  const int64_t grain = algorithm == ConvAlgorithm::Pointwise
                            ? gemm_column_grain(kg, plane_out, rows)
                            : pixel_grain(g);
  const int64_t blocks = ceil_div(plane_out, grain);
  parallel_for(g.n * g.groups * blocks, [&](int64_t t) {
    const int64_t block = t % blocks, ng = t / blocks, grp = ng % g.groups, n = ng / g.groups;
    const int64_t p0 = block * grain, p1 = std::min(plane_out, p0 + grain);
    const float* xg = x + (n * g.c + grp * cg) * plane_in;
    float* yg = y + (n * g.k + grp * kg) * plane_out + p0;
    const MatrixRef a{w + grp * kg * rows, rows};
    if (algorithm == ConvAlgorithm::Pointwise) {
      gemm_serial(kg, p1 - p0, rows, a, MatrixRef{xg + p0, plane_in}, 0.0f, yg, plane_out);
    } else {
      std::vector<float>& col = scratch(static_cast<size_t>(rows * (p1 - p0)));
      im2col_block(col.data(), xg, cg, g, p0, p1);
      gemm_serial(kg, p1 - p0, rows, a, MatrixRef{col.data(), p1 - p0}, 0.0f, yg, plane_out);
    }
    finish_block(yg, bias ? bias + grp * kg : nullptr,
                 residual ? residual + (n * g.k + grp * kg) * plane_out + p0 : nullptr, epilogue,
                 kg, p1 - p0, plane_out);
  });
}

void conv2d_backward_input(float* dx, const float* dy, const float* w, const Conv2dGeometry& g) {
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  const int64_t cg = g.c_per_group(), kg = g.k_per_group(), taps = g.r * g.s;
  const ConvAlgorithm algorithm = choose_conv_algorithm(g);
  if (algorithm == ConvAlgorithm::Direct && direct_conv_enabled() &&
      direct_conv_backward_input(dx, dy, w, g))
    return;
  if (algorithm == ConvAlgorithm::Depthwise) {
    // Task = input plane; its kg output planes are added in channel order.
    parallel_for(g.n * g.c, [&](int64_t t) {
      const int64_t n = t / g.c, c = t % g.c;
      float* dxp = dx + t * plane_in;
      std::fill(dxp, dxp + plane_in, 0.0f);
      for (int64_t k = c * kg; k < (c + 1) * kg; ++k)
        depthwise_backward_input_plane(dxp, dy + (n * g.k + k) * plane_out, w + k * taps, g);
    });
    return;
  }
  const int64_t rows = cg * taps;
  if (algorithm == ConvAlgorithm::Pointwise) {  // dx = Wᵀ · dy, by blocks of pixels
    const int64_t grain = gemm_column_grain(cg, plane_in, kg);
    const int64_t blocks = ceil_div(plane_in, grain);
    parallel_for(g.n * g.groups * blocks, [&](int64_t t) {
      const int64_t block = t % blocks, ng = t / blocks, grp = ng % g.groups, n = ng / g.groups;
      const int64_t p0 = block * grain, p1 = std::min(plane_in, p0 + grain);
      gemm_serial(cg, p1 - p0, kg, MatrixRef{w + grp * kg * rows, rows, true},
                  MatrixRef{dy + (n * g.k + grp * kg) * plane_out + p0, plane_out}, 0.0f,
                  dx + (n * g.c + grp * cg) * plane_in + p0, plane_in);
    });
    return;
  }
  // Task = (image, group, block of input channels): the columns of Wᵀ·dy of those channels,
  // block of output pixels by block, scattered back with col2im into planes no other task
  // touches.
  const int64_t channel_grain = std::max<int64_t>(1, std::min<int64_t>(cg, 16));
  const int64_t channel_blocks = ceil_div(cg, channel_grain);
  const int64_t grain = pixel_grain(g);
  parallel_for(g.n * g.groups * channel_blocks, [&](int64_t t) {
    const int64_t cb = t % channel_blocks, ng = t / channel_blocks, grp = ng % g.groups,
                  n = ng / g.groups;
    const int64_t c0 = cb * channel_grain, c1 = std::min(cg, c0 + channel_grain);
    float* dxg = dx + (n * g.c + grp * cg + c0) * plane_in;
    std::fill(dxg, dxg + (c1 - c0) * plane_in, 0.0f);
    const float* dyg = dy + (n * g.k + grp * kg) * plane_out;
    const MatrixRef wt{w + grp * kg * rows + c0 * taps, rows, true};
    for (int64_t p0 = 0; p0 < plane_out; p0 += grain) {
      const int64_t p1 = std::min(plane_out, p0 + grain);
      std::vector<float>& col = scratch(static_cast<size_t>((c1 - c0) * taps * (p1 - p0)));
      gemm_serial((c1 - c0) * taps, p1 - p0, kg, wt, MatrixRef{dyg + p0, plane_out}, 0.0f,
                  col.data(), p1 - p0);
      col2im_block_add(dxg, col.data(), c1 - c0, g, p0, p1);
    }
  });
}

void conv2d_backward_weight(float* dw, const float* dy, const float* x, const Conv2dGeometry& g) {
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  const int64_t cg = g.c_per_group(), kg = g.k_per_group(), taps = g.r * g.s;
  const ConvAlgorithm algorithm = choose_conv_algorithm(g);
  if (algorithm == ConvAlgorithm::Depthwise) {
    // Task = output channel, images summed in order, in double.
    parallel_for(g.k, [&](int64_t k) {
      std::vector<double> acc(static_cast<size_t>(taps), 0.0);
      const int64_t c = k / kg;
      for (int64_t n = 0; n < g.n; ++n) {
        depthwise_backward_weight_plane(acc.data(), dy + (n * g.k + k) * plane_out,
                                        x + (n * g.c + c) * plane_in, g);
      }
      for (int64_t t = 0; t < taps; ++t) dw[k * taps + t] = static_cast<float>(acc[t]);
    });
    return;
  }
  // dW_g = Σ_n dy_g · colᵀ: the sum over images and pixel blocks is cut into shape-fixed chunks,
  // each chunk's product is a partial, and the partials are added in chunk order.
  const int64_t rows = cg * taps, wsize = kg * rows;
  const int64_t min_grain = algorithm == ConvAlgorithm::Pointwise ? 1024 : pixel_grain(g);
  // Few chunks: each partial costs a pass over the weight-sized output (writing, then adding).
  const int64_t max_chunks_per_group = 16;
  int64_t grain = std::max(min_grain, ceil_div(g.n * plane_out, max_chunks_per_group));
  grain = std::min(grain, plane_out);
  const int64_t blocks = ceil_div(plane_out, grain);
  const int64_t chunks = g.n * blocks;
  // im2col sub-blocks of a chunk: ≤ ~2 MiB of columns, accumulated into its partial in order.
  const int64_t sub_grain = std::min(
      grain, std::max(min_grain, (int64_t{1} << 19) / std::max<int64_t>(1, rows) / 16 * 16));
  std::unique_ptr<float[]> partials(new float[static_cast<size_t>(g.groups * chunks * wsize)]);
  parallel_for(g.groups * chunks, [&](int64_t t) {
    const int64_t grp = t / chunks, chunk = t % chunks, n = chunk / blocks, block = chunk % blocks;
    const int64_t p0 = block * grain, p1 = std::min(plane_out, p0 + grain);
    const float* dyg = dy + (n * g.k + grp * kg) * plane_out + p0;
    const float* xg = x + (n * g.c + grp * cg) * plane_in;
    float* part = partials.get() + t * wsize;
    if (algorithm == ConvAlgorithm::Pointwise) {
      gemm_serial(kg, rows, p1 - p0, MatrixRef{dyg, plane_out}, MatrixRef{xg + p0, plane_in, true},
                  0.0f, part, rows);
    } else {
      for (int64_t q0 = p0; q0 < p1; q0 += sub_grain) {
        const int64_t q1 = std::min(p1, q0 + sub_grain);
        std::vector<float>& col = scratch(static_cast<size_t>(rows * (q1 - q0)));
        im2col_block(col.data(), xg, cg, g, q0, q1);
        gemm_serial(kg, rows, q1 - q0, MatrixRef{dyg + (q0 - p0), plane_out},
                    MatrixRef{col.data(), q1 - q0, true}, q0 == p0 ? 0.0f : 1.0f, part, rows);
      }
    }
  });
  // Element e of group grp sums its chunks in order (in double): the same bits for any threads.
  // A range of elements is summed chunk by chunk, so every pass reads contiguous memory.
  parallel_ranges(g.groups * wsize, 4096, [&](int64_t e0, int64_t e1) {
    std::vector<double> acc;
    for (int64_t e = e0; e < e1;) {
      const int64_t grp = e / wsize, i0 = e % wsize;
      const int64_t len = std::min(e1 - e, wsize - i0);  // stay inside one group
      acc.assign(static_cast<size_t>(len), 0.0);
      const float* part = partials.get() + grp * chunks * wsize + i0;
      for (int64_t c = 0; c < chunks; ++c) {
        const float* row = part + c * wsize;
        for (int64_t j = 0; j < len; ++j) acc[static_cast<size_t>(j)] += row[j];
      }
      for (int64_t j = 0; j < len; ++j) dw[e + j] = static_cast<float>(acc[static_cast<size_t>(j)]);
      e += len;
    }
  });
}

void conv2d_backward_bias(float* db, const float* dy, const Conv2dGeometry& g) {
  const int64_t plane_out = g.oh * g.ow;
  parallel_for(g.k, [&](int64_t k) {
    double acc = 0.0;
    for (int64_t n = 0; n < g.n; ++n) acc += plane_sum(dy + (n * g.k + k) * plane_out, plane_out);
    db[k] = static_cast<float>(acc);
  });
}

}  // namespace rtseg::cpu_fast
