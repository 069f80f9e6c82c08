// The convolution loops behind the emulated cuDNN (cudnn_convolution.cpp): NCHW data, OIHW
// filters, groups, stride, zero padding, dilation and both cuDNN modes; three forward algorithms
// and two per backward pass. Each returns its pass's raw result (the caller applies alpha and
// beta), summing in the element type as cuDNN's FMA math does. An algorithm with a workspace
// writes all of it (index tables or im2col columns) and reads its data back from there, so a
// workspace shorter than workspace_bytes() is an out-of-bounds access AddressSanitizer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtseg::emu::cudnn_conv {

// A validated convolution (cudnn_convolution.cpp checks every field), copied into queued work.
struct Shape {
  int64_t n = 0, c = 0, h = 0, w = 0;            // input
  int64_t k = 0, c_per_group = 0, r = 0, s = 0;  // filter: k outputs of r×s taps
  int64_t groups = 1;
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t oh = 0, ow = 0;  // output
  bool flip = false;       // CUDNN_CONVOLUTION: the filter is applied rotated by 180°

  int64_t k_per_group() const { return k / groups; }
  int64_t x_size() const { return n * c * h * w; }
  int64_t w_size() const { return k * c_per_group * r * s; }
  int64_t y_size() const { return n * k * oh * ow; }
  int64_t taps() const { return c_per_group * r * s; }  // one output's products
  // Offset, within one filter plane, of the weight that window position (i, j) multiplies.
  int64_t tap(int64_t i, int64_t j) const {
    return flip ? (r - 1 - i) * s + (s - 1 - j) : i * s + j;
  }
  // Input row (column) that output row (column) o reads at window row (column) i; may be outside.
  int64_t in_row(int64_t o, int64_t i) const { return o * stride_h - pad_h + i * dil_h; }
  int64_t in_col(int64_t o, int64_t j) const { return o * stride_w - pad_w + j * dil_w; }
};

enum class Pass { kForward, kBackwardData, kBackwardFilter };

// The emulated algorithms, by cuDNN's enum values.
constexpr int kForwardImplicitGemm = 0;  // direct loops
constexpr int kForwardPrecompGemm = 1;   // direct loops over precomputed row/column tables
constexpr int kForwardGemm = 2;          // im2col columns × filter
constexpr int kBackwardAlgo0 = 0;        // direct loops
constexpr int kBackwardAlgo1 = 1;        // data: inverse row/column tables; filter: im2col

// Whether the emulator implements `algo` of `pass` and, if so, the workspace bytes it needs.
inline bool workspace_bytes(Pass pass, int algo, const Shape& g, size_t element, size_t* bytes) {
  const size_t im2col = static_cast<size_t>(g.taps() * g.oh * g.ow) * element;
  const auto tables = [](int64_t rows, int64_t cols) {
    return static_cast<size_t>(rows + cols) * sizeof(int32_t);
  };
  const bool forward = pass == Pass::kForward;
  if (algo == (forward ? kForwardImplicitGemm : kBackwardAlgo0)) {
    *bytes = 0;
  } else if (forward && algo == kForwardPrecompGemm) {
    *bytes = tables(g.oh * g.r, g.ow * g.s);
  } else if (forward && algo == kForwardGemm) {
    *bytes = im2col;
  } else if (pass == Pass::kBackwardData && algo == kBackwardAlgo1) {
    *bytes = tables(g.h * g.r, g.w * g.s);
  } else if (pass == Pass::kBackwardFilter && algo == kBackwardAlgo1) {
    *bytes = im2col;
  } else {
    return false;
  }
  return true;
}

namespace detail {

// rows[o·r + i]: the input row that output row o reads at window row i, or -1 (padding); cols
// likewise with columns and s.
inline void fill_forward_tables(const Shape& g, int32_t* rows, int32_t* cols) {
  for (int64_t o = 0; o < g.oh; ++o) {
    for (int64_t i = 0; i < g.r; ++i) {
      const int64_t in = g.in_row(o, i);
      rows[o * g.r + i] = in >= 0 && in < g.h ? static_cast<int32_t>(in) : -1;
    }
  }
  for (int64_t o = 0; o < g.ow; ++o) {
    for (int64_t j = 0; j < g.s; ++j) {
      const int64_t in = g.in_col(o, j);
      cols[o * g.s + j] = in >= 0 && in < g.w ? static_cast<int32_t>(in) : -1;
    }
  }
}

// The output row (column) that reads input row (column) `in` at window row (column) i, or -1.
inline int32_t output_of(int64_t in, int64_t i, int64_t pad, int64_t dil, int64_t stride,
                         int64_t out_size) {
  const int64_t t = in + pad - i * dil;
  if (t < 0 || t % stride != 0 || t / stride >= out_size) return -1;
  return static_cast<int32_t>(t / stride);
}

// rows[in·r + i] = output_of(input row in, window row i); cols likewise.
inline void fill_backward_tables(const Shape& g, int32_t* rows, int32_t* cols) {
  for (int64_t in = 0; in < g.h; ++in) {
    for (int64_t i = 0; i < g.r; ++i) {
      rows[in * g.r + i] = output_of(in, i, g.pad_h, g.dil_h, g.stride_h, g.oh);
    }
  }
  for (int64_t in = 0; in < g.w; ++in) {
    for (int64_t j = 0; j < g.s; ++j) {
      cols[in * g.s + j] = output_of(in, j, g.pad_w, g.dil_w, g.stride_w, g.ow);
    }
  }
}

// col[((c·r + i)·s + j)·(oh·ow) + p] = the input of group channel c that output p reads at (i, j).
template <typename T>
void im2col(const Shape& g, const T* x_group, T* col) {
  T* out = col;
  for (int64_t c = 0; c < g.c_per_group; ++c) {
    const T* plane = x_group + c * g.h * g.w;
    for (int64_t i = 0; i < g.r; ++i) {
      for (int64_t j = 0; j < g.s; ++j) {
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const int64_t iy = g.in_row(oy, i);
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const int64_t ix = g.in_col(ox, j);
            *out++ = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? plane[iy * g.w + ix] : T(0);
          }
        }
      }
    }
  }
}

// Forward, direct or through tables: rows/cols null means bounds are computed inline.
template <typename T>
void forward_direct(const Shape& g, const T* x, const T* w, const int32_t* rows,
                    const int32_t* cols, T* y) {
  const int64_t kpg = g.k_per_group();
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t k = 0; k < g.k; ++k) {
      const T* x_group = x + (n * g.c + (k / kpg) * g.c_per_group) * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          T acc = T(0);
          for (int64_t c = 0; c < g.c_per_group; ++c) {
            const T* plane = x_group + c * g.h * g.w;
            const T* filter = w + (k * g.c_per_group + c) * g.r * g.s;
            for (int64_t i = 0; i < g.r; ++i) {
              const int64_t iy = rows ? rows[oy * g.r + i] : g.in_row(oy, i);
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t j = 0; j < g.s; ++j) {
                const int64_t ix = cols ? cols[ox * g.s + j] : g.in_col(ox, j);
                if (ix < 0 || ix >= g.w) continue;
                acc += plane[iy * g.w + ix] * filter[g.tap(i, j)];
              }
            }
          }
          y[((n * g.k + k) * g.oh + oy) * g.ow + ox] = acc;
        }
      }
    }
  }
}

template <typename T>
void forward_gemm(const Shape& g, const T* x, const T* w, T* col, T* y) {
  const int64_t kpg = g.k_per_group(), pixels = g.oh * g.ow;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      im2col(g, x + (n * g.c + grp * g.c_per_group) * g.h * g.w, col);
      for (int64_t k = grp * kpg; k < (grp + 1) * kpg; ++k) {
        T* out = y + (n * g.k + k) * pixels;  // zero: the result starts cleared
        for (int64_t c = 0; c < g.c_per_group; ++c) {
          for (int64_t i = 0; i < g.r; ++i) {
            for (int64_t j = 0; j < g.s; ++j) {
              const T weight = w[(k * g.c_per_group + c) * g.r * g.s + g.tap(i, j)];
              const T* column = col + ((c * g.r + i) * g.s + j) * pixels;
              for (int64_t p = 0; p < pixels; ++p) out[p] += weight * column[p];
            }
          }
        }
      }
    }
  }
}

// Backward data as a gather: each input element sums the outputs that read it.
template <typename T>
void backward_data_direct(const Shape& g, const T* w, const T* dy, const int32_t* rows,
                          const int32_t* cols, T* dx) {
  const int64_t kpg = g.k_per_group();
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t c = 0; c < g.c; ++c) {
      const int64_t grp = c / g.c_per_group, c_in_group = c % g.c_per_group;
      for (int64_t iy = 0; iy < g.h; ++iy) {
        for (int64_t ix = 0; ix < g.w; ++ix) {
          T acc = T(0);
          for (int64_t k = grp * kpg; k < (grp + 1) * kpg; ++k) {
            const T* grad = dy + (n * g.k + k) * g.oh * g.ow;
            const T* filter = w + (k * g.c_per_group + c_in_group) * g.r * g.s;
            for (int64_t i = 0; i < g.r; ++i) {
              const int64_t oy =
                  rows ? rows[iy * g.r + i] : output_of(iy, i, g.pad_h, g.dil_h, g.stride_h, g.oh);
              if (oy < 0) continue;
              for (int64_t j = 0; j < g.s; ++j) {
                const int64_t ox = cols ? cols[ix * g.s + j]
                                        : output_of(ix, j, g.pad_w, g.dil_w, g.stride_w, g.ow);
                if (ox < 0) continue;
                acc += grad[oy * g.ow + ox] * filter[g.tap(i, j)];
              }
            }
          }
          dx[((n * g.c + c) * g.h + iy) * g.w + ix] = acc;
        }
      }
    }
  }
}

template <typename T>
void backward_filter_direct(const Shape& g, const T* x, const T* dy, T* dw) {
  const int64_t kpg = g.k_per_group();
  for (int64_t k = 0; k < g.k; ++k) {
    const int64_t first_channel = (k / kpg) * g.c_per_group;
    for (int64_t c = 0; c < g.c_per_group; ++c) {
      for (int64_t i = 0; i < g.r; ++i) {
        for (int64_t j = 0; j < g.s; ++j) {
          T acc = T(0);
          for (int64_t n = 0; n < g.n; ++n) {
            const T* plane = x + (n * g.c + first_channel + c) * g.h * g.w;
            const T* grad = dy + (n * g.k + k) * g.oh * g.ow;
            for (int64_t oy = 0; oy < g.oh; ++oy) {
              const int64_t iy = g.in_row(oy, i);
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t ox = 0; ox < g.ow; ++ox) {
                const int64_t ix = g.in_col(ox, j);
                if (ix >= 0 && ix < g.w) acc += grad[oy * g.ow + ox] * plane[iy * g.w + ix];
              }
            }
          }
          dw[(k * g.c_per_group + c) * g.r * g.s + g.tap(i, j)] = acc;
        }
      }
    }
  }
}

template <typename T>
void backward_filter_gemm(const Shape& g, const T* x, const T* dy, T* col, T* dw) {
  const int64_t kpg = g.k_per_group(), pixels = g.oh * g.ow;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      im2col(g, x + (n * g.c + grp * g.c_per_group) * g.h * g.w, col);
      for (int64_t k = grp * kpg; k < (grp + 1) * kpg; ++k) {
        const T* grad = dy + (n * g.k + k) * pixels;
        for (int64_t c = 0; c < g.c_per_group; ++c) {
          for (int64_t i = 0; i < g.r; ++i) {
            for (int64_t j = 0; j < g.s; ++j) {
              const T* column = col + ((c * g.r + i) * g.s + j) * pixels;
              T acc = T(0);
              for (int64_t p = 0; p < pixels; ++p) acc += grad[p] * column[p];
              dw[(k * g.c_per_group + c) * g.r * g.s + g.tap(i, j)] += acc;  // summed over n
            }
          }
        }
      }
    }
  }
}

}  // namespace detail

// The raw result of `pass` by `algo` (which workspace_bytes accepts), sized as the pass's output.
// Inputs by pass: forward x, w; backward data w, dy (`y`); backward filter x, dy (`y`).
template <typename T>
std::vector<T> compute(Pass pass, int algo, const Shape& g, const T* x, const T* w, const T* y,
                       void* workspace) {
  int32_t* const rows = static_cast<int32_t*>(workspace);
  T* const col = static_cast<T*>(workspace);
  switch (pass) {
    case Pass::kForward: {
      std::vector<T> out(static_cast<size_t>(g.y_size()), T(0));
      if (algo == kForwardGemm) {
        detail::forward_gemm(g, x, w, col, out.data());
      } else if (algo == kForwardPrecompGemm) {
        detail::fill_forward_tables(g, rows, rows + g.oh * g.r);
        detail::forward_direct(g, x, w, rows, rows + g.oh * g.r, out.data());
      } else {
        detail::forward_direct<T>(g, x, w, nullptr, nullptr, out.data());
      }
      return out;
    }
    case Pass::kBackwardData: {
      std::vector<T> out(static_cast<size_t>(g.x_size()), T(0));
      if (algo == kBackwardAlgo1) {
        detail::fill_backward_tables(g, rows, rows + g.h * g.r);
        detail::backward_data_direct(g, w, y, rows, rows + g.h * g.r, out.data());
      } else {
        detail::backward_data_direct<T>(g, w, y, nullptr, nullptr, out.data());
      }
      return out;
    }
    case Pass::kBackwardFilter: {
      std::vector<T> out(static_cast<size_t>(g.w_size()), T(0));
      if (algo == kBackwardAlgo1) {
        detail::backward_filter_gemm(g, x, y, col, out.data());
      } else {
        detail::backward_filter_direct(g, x, y, out.data());
      }
      return out;
    }
  }
  return {};
}

}  // namespace rtseg::emu::cudnn_conv
