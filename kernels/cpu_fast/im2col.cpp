#include "kernels/cpu_fast/im2col.h"

#include "kernels/cpu_fast/isa.h"

namespace rtseg::cpu_fast {

namespace {

// Calls segment(row, oy, ox0, ox1, col_offset) for each output row piece of [p0, p1):
// pixels (oy, ox0..ox1) are the columns col_offset.. of the block.
template <typename F>
inline void for_each_row_segment(const Conv2dGeometry& g, int64_t p0, int64_t p1, F segment) {
  int64_t p = p0;
  while (p < p1) {
    const int64_t oy = p / g.ow, ox0 = p % g.ow;
    const int64_t ox1 = (p1 - p) < (g.ow - ox0) ? ox0 + (p1 - p) : g.ow;
    segment(oy, ox0, ox1, p - p0);
    p += ox1 - ox0;
  }
}

}  // namespace

RTSEG_CPU_CLONES
void im2col_block(float* __restrict col, const float* __restrict x, int64_t channels,
                  const Conv2dGeometry& g, int64_t p0, int64_t p1) {
  const int64_t width = p1 - p0, plane = g.h * g.w, sw = g.stride_w;
  for (int64_t ci = 0; ci < channels; ++ci) {
    const float* __restrict xp = x + ci * plane;
    for (int64_t r = 0; r < g.r; ++r) {
      for (int64_t s = 0; s < g.s; ++s) {
        float* __restrict out = col + ((ci * g.r + r) * g.s + s) * width;
        const int64_t off_w = s * g.dil_w - g.pad_w;
        const OutputRange cols = conv_valid_range(off_w, g.w, sw, g.ow);
        for_each_row_segment(g, p0, p1, [&](int64_t oy, int64_t ox0, int64_t ox1, int64_t at) {
          float* __restrict o = out + at;  // o[ox − ox0] for ox in [ox0, ox1)
          const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
          if (iy < 0 || iy >= g.h) {
            for (int64_t ox = ox0; ox < ox1; ++ox) o[ox - ox0] = 0.0f;
            return;
          }
          const int64_t a = cols.begin > ox0 ? (cols.begin < ox1 ? cols.begin : ox1) : ox0;
          const int64_t b = cols.end < ox1 ? (cols.end > a ? cols.end : a) : ox1;
          const float* __restrict xrow = xp + iy * g.w;  // xrow[ox·sw + off_w] for ox in [a, b)
          for (int64_t ox = ox0; ox < a; ++ox) o[ox - ox0] = 0.0f;
          if (sw == 1) {
            for (int64_t ox = a; ox < b; ++ox) o[ox - ox0] = xrow[ox + off_w];
          } else {
            for (int64_t ox = a; ox < b; ++ox) o[ox - ox0] = xrow[ox * sw + off_w];
          }
          for (int64_t ox = b; ox < ox1; ++ox) o[ox - ox0] = 0.0f;
        });
      }
    }
  }
}

RTSEG_CPU_CLONES
void col2im_block_add(float* __restrict dx, const float* __restrict col, int64_t channels,
                      const Conv2dGeometry& g, int64_t p0, int64_t p1) {
  const int64_t width = p1 - p0, plane = g.h * g.w, sw = g.stride_w;
  for (int64_t ci = 0; ci < channels; ++ci) {
    float* __restrict dxp = dx + ci * plane;
    for (int64_t r = 0; r < g.r; ++r) {
      for (int64_t s = 0; s < g.s; ++s) {
        const float* __restrict in = col + ((ci * g.r + r) * g.s + s) * width;
        const int64_t off_w = s * g.dil_w - g.pad_w;
        const OutputRange cols = conv_valid_range(off_w, g.w, sw, g.ow);
        for_each_row_segment(g, p0, p1, [&](int64_t oy, int64_t ox0, int64_t ox1, int64_t at) {
          const int64_t iy = oy * g.stride_h + r * g.dil_h - g.pad_h;
          if (iy < 0 || iy >= g.h) return;
          const int64_t a = cols.begin > ox0 ? cols.begin : ox0;
          const int64_t b = cols.end < ox1 ? cols.end : ox1;
          const float* __restrict c = in + at;
          float* __restrict row = dxp + iy * g.w;
          if (sw == 1) {
            for (int64_t ox = a; ox < b; ++ox) row[ox + off_w] += c[ox - ox0];
          } else {
            for (int64_t ox = a; ox < b; ++ox) row[ox * sw + off_w] += c[ox - ox0];
          }
        });
      }
    }
  }
}

}  // namespace rtseg::cpu_fast
