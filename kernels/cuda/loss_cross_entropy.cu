// Cross-entropy kernels: one thread per pixel looping over the classes (neighbouring threads read
// neighbouring pixels of each class plane, so the loops read coalesced), per-pixel arithmetic in
// the CPU reference's order, deterministic reductions (kernels/cuda/deterministic_reduce.cuh).
// OHEM ranks the target-class probabilities with CUB's radix sort and picks the threshold with a
// single-thread kernel, so the selection never leaves the device.
#include <climits>
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/deterministic_reduce.cuh"
#include "kernels/cuda/loss_cross_entropy.h"

namespace rtseg::cuda {

namespace {

constexpr int64_t kAlign = 256;

int64_t align_up(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

template <typename T>
__device__ T larger(T a, T b) {
  return a < b ? b : a;  // std::max's rule, as the CPU reference
}

struct ClassMap {
  cpu::ClassMapGeometry g;
  int64_t ignore_index;

  // A target that is neither ignored nor a class: it must not index the logits.
  __device__ bool bad(int64_t y) const { return y != ignore_index && (y < 0 || y >= g.c); }
};

template <typename T>
struct PixelLoss {
  T loss = T(0), weight = T(0), prob = T(0);
  bool labelled = false;  // a valid class target (not ignored, not bad)
};

// cpu::cross_entropy_pixels for one pixel i = n·S + s; a bad target gives loss NaN.
template <typename T>
__device__ PixelLoss<T> pixel_loss(const T* logits, const int64_t* target, const T* class_weights,
                                   const ClassMap& map, int64_t i, bool want_prob) {
  PixelLoss<T> r;
  const int64_t y = target[i];
  if (y == map.ignore_index) return r;
  if (map.bad(y)) {
    r.loss = static_cast<T>(NAN);
    return r;
  }
  const cpu::ClassMapGeometry& g = map.g;
  const int64_t n = i / g.s;
  const T* x = logits + n * g.c * g.s + (i - n * g.s);
  T m = x[0];
  for (int64_t c = 1; c < g.c; ++c) m = larger(m, x[c * g.s]);
  T total = 0;
  for (int64_t c = 0; c < g.c; ++c) total += exp(x[c * g.s] - m);
  const T x_y = x[y * g.s];
  const T w = class_weights ? class_weights[y] : T(1);
  r.loss = w * (log(total) - (x_y - m));
  r.weight = w;
  r.labelled = true;
  if (want_prob) r.prob = exp(x_y - m) / total;
  return r;
}

template <typename T>
__global__ void cross_entropy_map_kernel(T* loss, const T* logits, const int64_t* target,
                                         const T* class_weights, ClassMap map) {
  RTSEG_GRID_STRIDE_LOOP(i, map.g.pixels()) {
    loss[i] = pixel_loss(logits, target, class_weights, map, i, false).loss;
  }
}

// {w·nll, w} per pixel, for mean and sum.
template <typename T>
struct LossAndWeight {
  const T* logits;
  const int64_t* target;
  const T* class_weights;
  ClassMap map;

  __device__ reduce::Values<2> operator()(int64_t, int64_t i) const {
    const PixelLoss<T> p = pixel_loss(logits, target, class_weights, map, i, false);
    return {{static_cast<double>(p.loss), static_cast<double>(p.weight)}};
  }
};

// As the CPU op: the mean multiplies by the reciprocal of Σw; a NaN (bad target) survives even
// when no pixel has weight.
template <typename T>
struct FinishMeanOrSum {
  T* out;
  double* scale;
  bool mean;

  __device__ void operator()(int64_t, const reduce::Values<2>& total) const {
    const double loss_sum = total.v[0], weight_sum = total.v[1];
    const double s = !mean ? 1.0 : (weight_sum > 0.0 ? 1.0 / weight_sum : 0.0);
    out[0] = static_cast<T>(isnan(loss_sum) ? loss_sum : loss_sum * s);
    scale[0] = s;
  }
};

template <typename T>
__global__ void ohem_pixels_kernel(T* loss, T* key, const T* logits, const int64_t* target,
                                   const T* class_weights, ClassMap map) {
  RTSEG_GRID_STRIDE_LOOP(i, map.g.pixels()) {
    const PixelLoss<T> p = pixel_loss(logits, target, class_weights, map, i, true);
    loss[i] = p.loss;
    key[i] = p.labelled ? p.prob : static_cast<T>(INFINITY);
  }
}

// One thread: the labelled pixels are the keys below +inf, a prefix of the sorted keys.
template <typename T>
__global__ void ohem_threshold_kernel(T* threshold, const T* sorted, int64_t n, int64_t min_kept,
                                      T thresh) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < static_cast<T>(INFINITY)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const int64_t count = lo;
  if (count == 0) {
    threshold[0] = static_cast<T>(-INFINITY);  // no labelled pixel: keep nothing, loss 0
    return;
  }
  const int64_t k = min_kept < count - 1 ? min_kept : count - 1;
  threshold[0] = larger(sorted[k], thresh);
}

// {w·nll, 1} for the kept pixels; a bad target contributes NaN.
template <typename T>
struct KeptLoss {
  const T* loss;
  const T* key;
  const T* threshold;
  const int64_t* target;
  ClassMap map;

  __device__ reduce::Values<2> operator()(int64_t, int64_t i) const {
    if (key[i] < threshold[0]) return {{static_cast<double>(loss[i]), 1.0}};
    if (map.bad(target[i])) return {{static_cast<double>(NAN), 0.0}};
    return {{0.0, 0.0}};
  }
};

template <typename T>
struct FinishKeptMean {
  T* out;
  double* scale;

  __device__ void operator()(int64_t, const reduce::Values<2>& total) const {
    const double loss_sum = total.v[0], kept = total.v[1];
    const double s = kept > 0.0 ? 1.0 / kept : 0.0;
    out[0] = static_cast<T>(isnan(loss_sum) ? loss_sum : loss_sum * s);
    scale[0] = s;
  }
};

template <typename T>
__global__ void cross_entropy_backward_kernel(T* grad, const T* logits, const int64_t* target,
                                              const T* class_weights, ClassMap map,
                                              CrossEntropyGradScale<T> sc) {
  const cpu::ClassMapGeometry& g = map.g;
  RTSEG_GRID_STRIDE_LOOP(i, g.pixels()) {
    const int64_t y = target[i];
    const int64_t n = i / g.s;
    const int64_t offset = n * g.c * g.s + (i - n * g.s);
    const T* x = logits + offset;
    T* gr = grad + offset;
    T k = T(0);
    if (map.bad(y)) {
      k = static_cast<T>(NAN);
    } else if (y != map.ignore_index) {
      T d = sc.per_pixel ? sc.grad_out[i]
                         : static_cast<T>(static_cast<double>(sc.grad_out[0]) * sc.scale[0]);
      if (sc.key != nullptr && !(sc.key[i] < sc.threshold[0])) d = T(0);
      k = d * (class_weights ? class_weights[y] : T(1));
    }
    if (k == T(0)) {
      for (int64_t c = 0; c < g.c; ++c) gr[c * g.s] = T(0);
      continue;
    }
    if (isnan(k)) {
      for (int64_t c = 0; c < g.c; ++c) gr[c * g.s] = k;
      continue;
    }
    T m = x[0];
    for (int64_t c = 1; c < g.c; ++c) m = larger(m, x[c * g.s]);
    T total = 0;
    for (int64_t c = 0; c < g.c; ++c) total += exp(x[c * g.s] - m);
    for (int64_t c = 0; c < g.c; ++c) {
      const T p = exp(x[c * g.s] - m) / total;
      gr[c * g.s] = k * (c == y ? p - T(1) : p);
    }
  }
}

// Offsets of the OHEM workspace: sorted keys, per-pixel losses, reduction partials, CUB scratch.
struct OhemLayout {
  int64_t sorted = 0, loss = 0, partials = 0, sort_scratch = 0, sort_scratch_bytes = 0, total = 0;
};

template <typename T>
OhemLayout ohem_layout(const cpu::ClassMapGeometry& g) {
  RTSEG_CHECK(g.pixels() <= INT_MAX, "ohem_cross_entropy: {} pixels exceed the sort's int range",
              g.pixels());
  size_t scratch = 0;
  if (g.pixels() > 0) {
    // A size query only: no work is enqueued and nothing synchronises.
    check(cub::DeviceRadixSort::SortKeys(nullptr, scratch, static_cast<const T*>(nullptr),
                                         static_cast<T*>(nullptr), static_cast<int>(g.pixels())),
          "ohem_cross_entropy: sort workspace query");
  }
  OhemLayout l;
  l.sorted = 0;
  l.loss = l.sorted + align_up(g.pixels() * static_cast<int64_t>(sizeof(T)));
  l.partials = l.loss + align_up(g.pixels() * static_cast<int64_t>(sizeof(T)));
  l.sort_scratch = l.partials + align_up(reduce::partials_size(1, 2) * 8);
  l.sort_scratch_bytes = static_cast<int64_t>(scratch);
  l.total = l.sort_scratch + align_up(l.sort_scratch_bytes);
  return l;
}

}  // namespace

template <typename T>
void cross_entropy_map(const Exec& exec, T* loss, const T* logits, const int64_t* target,
                       const T* class_weights, const cpu::ClassMapGeometry& g,
                       int64_t ignore_index) {
  if (g.pixels() == 0) return;
  RTSEG_LAUNCH(blocks_for(g.pixels()), kThreads, 0, exec.stream, cross_entropy_map_kernel)
  (loss, logits, target, class_weights, ClassMap{g, ignore_index});
  check_launch("cross_entropy");
}

int64_t cross_entropy_reduce_workspace_bytes(const Exec&) {
  return reduce::partials_size(1, 2) * 8;
}

template <typename T>
void cross_entropy_reduce(const Exec& exec, T* out, double* scale, const T* logits,
                          const int64_t* target, const T* class_weights,
                          const cpu::ClassMapGeometry& g, int64_t ignore_index, bool mean,
                          void* workspace) {
  reduce::run<2, reduce::Sum>(static_cast<double*>(workspace), 1, g.pixels(),
                              LossAndWeight<T>{logits, target, class_weights, {g, ignore_index}},
                              FinishMeanOrSum<T>{out, scale, mean}, exec.stream, "cross_entropy");
}

template <typename T>
int64_t ohem_workspace_bytes(const Exec&, const cpu::ClassMapGeometry& g, T) {
  return ohem_layout<T>(g).total;
}

template <typename T>
void ohem_cross_entropy(const Exec& exec, T* out, T* key, T* threshold, double* scale,
                        const T* logits, const int64_t* target, const T* class_weights,
                        const cpu::ClassMapGeometry& g, int64_t ignore_index, int64_t min_kept,
                        T thresh, void* workspace, int64_t workspace_bytes) {
  const OhemLayout l = ohem_layout<T>(g);
  RTSEG_CHECK(workspace_bytes >= l.total, "ohem_cross_entropy: workspace of {} bytes, need {}",
              workspace_bytes, l.total);
  char* base = static_cast<char*>(workspace);
  T* sorted = reinterpret_cast<T*>(base + l.sorted);
  T* loss = reinterpret_cast<T*>(base + l.loss);
  double* partials = reinterpret_cast<double*>(base + l.partials);
  const ClassMap map{g, ignore_index};
  const int64_t n = g.pixels();
  if (n > 0) {
    RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, ohem_pixels_kernel)
    (loss, key, logits, target, class_weights, map);
    check_launch("ohem_cross_entropy");
    size_t scratch = static_cast<size_t>(l.sort_scratch_bytes);
    check(cub::DeviceRadixSort::SortKeys(base + l.sort_scratch, scratch, key, sorted,
                                         static_cast<int>(n), 0, static_cast<int>(sizeof(T) * 8),
                                         exec.stream),
          "ohem_cross_entropy: sort");
  }
  RTSEG_LAUNCH(1, 1, 0, exec.stream, ohem_threshold_kernel)(threshold, sorted, n, min_kept, thresh);
  check_launch("ohem_cross_entropy: threshold");
  reduce::run<2, reduce::Sum>(partials, 1, n, KeptLoss<T>{loss, key, threshold, target, map},
                              FinishKeptMean<T>{out, scale}, exec.stream, "ohem_cross_entropy");
}

template <typename T>
void cross_entropy_backward(const Exec& exec, T* grad, const T* logits, const int64_t* target,
                            const T* class_weights, const cpu::ClassMapGeometry& g,
                            int64_t ignore_index, const CrossEntropyGradScale<T>& scale) {
  if (g.pixels() == 0) return;
  RTSEG_LAUNCH(blocks_for(g.pixels()), kThreads, 0, exec.stream, cross_entropy_backward_kernel)
  (grad, logits, target, class_weights, ClassMap{g, ignore_index}, scale);
  check_launch("cross_entropy backward");
}

#define RTSEG_INSTANTIATE_CROSS_ENTROPY(T)                                                         \
  template void cross_entropy_map<T>(const Exec&, T*, const T*, const int64_t*, const T*,          \
                                     const cpu::ClassMapGeometry&, int64_t);                       \
  template void cross_entropy_reduce<T>(const Exec&, T*, double*, const T*, const int64_t*,        \
                                        const T*, const cpu::ClassMapGeometry&, int64_t, bool,     \
                                        void*);                                                    \
  template int64_t ohem_workspace_bytes<T>(const Exec&, const cpu::ClassMapGeometry&, T);          \
  template void ohem_cross_entropy<T>(const Exec&, T*, T*, T*, double*, const T*, const int64_t*,  \
                                      const T*, const cpu::ClassMapGeometry&, int64_t, int64_t, T, \
                                      void*, int64_t);                                             \
  template void cross_entropy_backward<T>(const Exec&, T*, const T*, const int64_t*, const T*,     \
                                          const cpu::ClassMapGeometry&, int64_t,                   \
                                          const CrossEntropyGradScale<T>&);
RTSEG_INSTANTIATE_CROSS_ENTROPY(float)
RTSEG_INSTANTIATE_CROSS_ENTROPY(double)

}  // namespace rtseg::cuda
