#include "data/boundary.h"

#include <algorithm>
#include <vector>

#include "kernels/error.h"

namespace rtseg::data {

Label boundary_map(const Label& label, int frame) {
  RTSEG_CHECK(!label.empty(), "boundary_map: empty label");
  RTSEG_CHECK(frame >= 0, "boundary_map: frame must be >= 0, got {}", frame);
  const int w = label.width, h = label.height;
  std::vector<uint8_t> seed(size_t(w) * h, 0);
  for (int y = 0; y < h; ++y) {
    const int16_t* row = &label.values[size_t(y) * w];
    const int16_t* below = y + 1 < h ? row + w : nullptr;
    uint8_t* out = &seed[size_t(y) * w];
    for (int x = 0; x + 1 < w; ++x) out[x] = row[x] != row[x + 1];
    if (below) {
      for (int x = 0; x < w; ++x) out[x] |= row[x] != below[x];
    }
  }
  if (frame > 0) {
    for (int y = 0; y < h; ++y) {
      uint8_t* out = &seed[size_t(y) * w];
      if (y < frame || y >= h - frame) {
        std::fill(out, out + w, 0);
      } else {
        std::fill(out, out + std::min(frame, w), 0);
        std::fill(out + std::max(w - frame, 0), out + w, 0);
      }
    }
  }
  // The 4×4 dilation is separable: OR over columns x−2..x+1, then over rows y−2..y+1.
  std::vector<uint8_t> horizontal(size_t(w) * h, 0);
  for (int y = 0; y < h; ++y) {
    const uint8_t* in = &seed[size_t(y) * w];
    uint8_t* out = &horizontal[size_t(y) * w];
    for (int x = 0; x < w; ++x) {
      uint8_t any = 0;
      for (int k = std::max(0, x - 2); k <= std::min(w - 1, x + 1); ++k) any |= in[k];
      out[x] = any;
    }
  }
  Label edge(w, h, 0);
  for (int y = 0; y < h; ++y) {
    int16_t* out = &edge.values[size_t(y) * w];
    for (int k = std::max(0, y - 2); k <= std::min(h - 1, y + 1); ++k) {
      const uint8_t* in = &horizontal[size_t(k) * w];
      for (int x = 0; x < w; ++x) out[x] |= in[x];
    }
  }
  return edge;
}

}  // namespace rtseg::data
