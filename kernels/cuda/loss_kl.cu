// kl_div_softmax: three deterministic reductions (per-image maxima, per-image log-sum-exps, the
// KL sum over the batch) and an elementwise backward, all in double like the CPU reference.
#include "kernels/cuda/deterministic_reduce.cuh"
#include "kernels/cuda/loss_kl.h"

namespace rtseg::cuda {

namespace {

template <typename T>
struct ImageValues {
  const T* student;
  const T* teacher;
  int64_t m;

  __device__ reduce::Values<2> operator()(int64_t n, int64_t i) const {
    return {{static_cast<double>(student[n * m + i]), static_cast<double>(teacher[n * m + i])}};
  }
};

struct StoreMax {
  double* stats;
  __device__ void operator()(int64_t n, const reduce::Values<2>& mx) const {
    stats[n * 4 + 0] = mx.v[0];
    stats[n * 4 + 2] = mx.v[1];
  }
};

template <typename T>
struct TemperedExp {
  const T* student;
  const T* teacher;
  const double* stats;
  int64_t m;
  double temp;

  __device__ reduce::Values<2> operator()(int64_t n, int64_t i) const {
    return {{exp((static_cast<double>(student[n * m + i]) - stats[n * 4 + 0]) / temp),
             exp((static_cast<double>(teacher[n * m + i]) - stats[n * 4 + 2]) / temp)}};
  }
};

struct StoreLogSum {
  double* stats;
  __device__ void operator()(int64_t n, const reduce::Values<2>& total) const {
    stats[n * 4 + 1] = log(total.v[0]);
    stats[n * 4 + 3] = log(total.v[1]);
  }
};

struct LogProbs {
  double log_ps, log_pt;
};

template <typename T>
__device__ LogProbs log_probs(const T* student, const T* teacher, const double* stats, int64_t m,
                              double temp, int64_t i) {
  const double* st = stats + (i / m) * 4;
  return {(static_cast<double>(student[i]) - st[0]) / temp - st[1],
          (static_cast<double>(teacher[i]) - st[2]) / temp - st[3]};
}

template <typename T>
struct KlTerm {
  const T* student;
  const T* teacher;
  const double* stats;
  int64_t m;
  double temp;

  __device__ reduce::Values<1> operator()(int64_t, int64_t i) const {
    const LogProbs lp = log_probs(student, teacher, stats, m, temp, i);
    const double pt = exp(lp.log_pt);
    return {{pt > 0.0 ? pt * (lp.log_pt - lp.log_ps) : 0.0}};
  }
};

template <typename T>
struct StoreScaled {
  T* out;
  double factor;
  __device__ void operator()(int64_t, const reduce::Values<1>& total) const {
    out[0] = static_cast<T>(factor * total.v[0]);
  }
};

template <typename T>
__global__ void kl_softmax_backward_kernel(T* grad, const T* student, const T* teacher,
                                           cpu::ImageMapGeometry g, double temp, double factor,
                                           const double* stats, const T* grad_out) {
  const double scale = static_cast<double>(grad_out[0]) * factor / temp;
  RTSEG_GRID_STRIDE_LOOP(i, g.n * g.m) {
    const LogProbs lp = log_probs(student, teacher, stats, g.m, temp, i);
    grad[i] = static_cast<T>(scale * (exp(lp.log_ps) - exp(lp.log_pt)));
  }
}

}  // namespace

int64_t kl_softmax_workspace_bytes(const Exec&, const cpu::ImageMapGeometry& g) {
  return reduce::partials_size(g.n, 2) * 8;
}

template <typename T>
void kl_softmax_forward(const Exec& exec, T* out, double* stats, const T* student, const T* teacher,
                        const cpu::ImageMapGeometry& g, double temperature, double factor,
                        void* workspace) {
  RTSEG_CHECK(g.n > 0 && g.n <= kKlMaxImages && g.m > 0,
              "kl_div_softmax: {} images of {} positions are outside the CUDA kernels' range", g.n,
              g.m);
  double* partials = static_cast<double*>(workspace);
  const char* where = "kl_div_softmax";
  reduce::run<2, reduce::Max>(partials, g.n, g.m, ImageValues<T>{student, teacher, g.m},
                              StoreMax{stats}, exec.stream, where);
  reduce::run<2, reduce::Sum>(partials, g.n, g.m,
                              TemperedExp<T>{student, teacher, stats, g.m, temperature},
                              StoreLogSum{stats}, exec.stream, where);
  reduce::run<1, reduce::Sum>(partials, 1, g.n * g.m,
                              KlTerm<T>{student, teacher, stats, g.m, temperature},
                              StoreScaled<T>{out, factor}, exec.stream, where);
}

template <typename T>
void kl_softmax_backward(const Exec& exec, T* grad, const T* student, const T* teacher,
                         const cpu::ImageMapGeometry& g, double temperature, double factor,
                         const double* stats, const T* grad_out) {
  if (g.n * g.m == 0) return;
  RTSEG_LAUNCH(blocks_for(g.n * g.m), kThreads, 0, exec.stream, kl_softmax_backward_kernel)
  (grad, student, teacher, g, temperature, factor, stats, grad_out);
  check_launch("kl_div_softmax backward");
}

#define RTSEG_INSTANTIATE_KL(T)                                                             \
  template void kl_softmax_forward<T>(const Exec&, T*, double*, const T*, const T*,         \
                                      const cpu::ImageMapGeometry&, double, double, void*); \
  template void kl_softmax_backward<T>(const Exec&, T*, const T*, const T*,                 \
                                       const cpu::ImageMapGeometry&, double, double,        \
                                       const double*, const T*);
RTSEG_INSTANTIATE_KL(float)
RTSEG_INSTANTIATE_KL(double)

}  // namespace rtseg::cuda
