// Balanced BCE and MSE: one deterministic reduction pass each (the BCE pass counts the classes
// and sums the losses of each class separately, so the class weights, known only at the end,
// multiply two sums instead of every element), then elementwise backward kernels that read the
// incoming gradient and the weights on the device.
#include "kernels/cuda/deterministic_reduce.cuh"
#include "kernels/cuda/loss_elementwise.h"

namespace rtseg::cuda {

namespace {

// The stable form max(x,0) − x·t + log(1 + exp(−|x|)) of −t·log σ(x) − (1 − t)·log(1 − σ(x)).
template <typename T>
__device__ T bce_term(T v, T t) {
  return (v > T(0) ? v : T(0)) - v * t + log1p(exp(-fabs(v)));
}

// {#pos, #neg, Σ_pos bce, Σ_neg bce}; soft targets weigh 0 and are skipped.
template <typename T>
struct BceParts {
  const T* x;
  const T* t;

  __device__ reduce::Values<4> operator()(int64_t, int64_t i) const {
    const T ti = t[i];
    if (ti == T(1)) return {{1.0, 0.0, static_cast<double>(bce_term(x[i], ti)), 0.0}};
    if (ti == T(0)) return {{0.0, 1.0, 0.0, static_cast<double>(bce_term(x[i], ti))}};
    return {{0.0, 0.0, 0.0, 0.0}};
  }
};

template <typename T>
struct FinishBce {
  T* out;
  double* weights;
  int64_t n;

  __device__ void operator()(int64_t, const reduce::Values<4>& total) const {
    const double pos = total.v[0], neg = total.v[1];
    double wp = 0.0, wn = 0.0;
    if (pos + neg > 0.0) {
      wp = neg / (pos + neg);
      wn = pos / (pos + neg);
    }
    // The weights in T, as the CPU reference applies them.
    const double loss = static_cast<double>(static_cast<T>(wp)) * total.v[2] +
                        static_cast<double>(static_cast<T>(wn)) * total.v[3];
    out[0] = static_cast<T>(loss / static_cast<double>(n));
    weights[0] = wp;
    weights[1] = wn;
  }
};

template <typename T>
__global__ void balanced_bce_backward_kernel(T* grad, const T* x, const T* t, int64_t n,
                                             const double* weights, const T* grad_out) {
  const T k = grad_out[0] / static_cast<T>(n);
  const T wp = static_cast<T>(weights[0]), wn = static_cast<T>(weights[1]);
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    const T v = x[i], ti = t[i];
    const T w = ti == T(1) ? wp : (ti == T(0) ? wn : T(0));
    const T sig = v >= T(0) ? T(1) / (T(1) + exp(-v)) : exp(v) / (T(1) + exp(v));
    grad[i] = k * w * (sig - ti);
  }
}

template <typename T>
struct SquaredError {
  const T* p;
  const T* t;

  __device__ reduce::Values<1> operator()(int64_t, int64_t i) const {
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    return {{d * d}};
  }
};

template <typename T>
struct FinishMean {
  T* out;
  int64_t n;

  __device__ void operator()(int64_t, const reduce::Values<1>& total) const {
    out[0] = static_cast<T>(total.v[0] / static_cast<double>(n));
  }
};

template <typename T>
__global__ void mse_backward_kernel(T* grad_p, T* grad_t, const T* p, const T* t, int64_t n,
                                    const T* grad_out) {
  const T k = T(2) * grad_out[0] / static_cast<T>(n);
  RTSEG_GRID_STRIDE_LOOP(i, n) {
    const T d = k * (p[i] - t[i]);
    if (grad_p) grad_p[i] = d;
    if (grad_t) grad_t[i] = -d;
  }
}

}  // namespace

int64_t elementwise_loss_workspace_bytes(const Exec&) { return reduce::partials_size(1, 4) * 8; }

template <typename T>
void balanced_bce_forward(const Exec& exec, T* out, double* weights, const T* x, const T* t,
                          int64_t n, void* workspace) {
  reduce::run<4, reduce::Sum>(static_cast<double*>(workspace), 1, n, BceParts<T>{x, t},
                              FinishBce<T>{out, weights, n}, exec.stream,
                              "balanced_bce_with_logits");
}

template <typename T>
void balanced_bce_backward(const Exec& exec, T* grad, const T* x, const T* t, int64_t n,
                           const double* weights, const T* grad_out) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, balanced_bce_backward_kernel)
  (grad, x, t, n, weights, grad_out);
  check_launch("balanced_bce_with_logits backward");
}

template <typename T>
void mse_forward(const Exec& exec, T* out, const T* p, const T* t, int64_t n, void* workspace) {
  reduce::run<1, reduce::Sum>(static_cast<double*>(workspace), 1, n, SquaredError<T>{p, t},
                              FinishMean<T>{out, n}, exec.stream, "mse_loss");
}

template <typename T>
void mse_backward(const Exec& exec, T* grad_p, T* grad_t, const T* p, const T* t, int64_t n,
                  const T* grad_out) {
  if (n == 0) return;
  RTSEG_LAUNCH(blocks_for(n), kThreads, 0, exec.stream, mse_backward_kernel)
  (grad_p, grad_t, p, t, n, grad_out);
  check_launch("mse_loss backward");
}

#define RTSEG_INSTANTIATE_ELEMENTWISE_LOSS(T)                                                  \
  template void balanced_bce_forward<T>(const Exec&, T*, double*, const T*, const T*, int64_t, \
                                        void*);                                                \
  template void balanced_bce_backward<T>(const Exec&, T*, const T*, const T*, int64_t,         \
                                         const double*, const T*);                             \
  template void mse_forward<T>(const Exec&, T*, const T*, const T*, int64_t, void*);           \
  template void mse_backward<T>(const Exec&, T*, T*, const T*, const T*, int64_t, const T*);
RTSEG_INSTANTIATE_ELEMENTWISE_LOSS(float)
RTSEG_INSTANTIATE_ELEMENTWISE_LOSS(double)

}  // namespace rtseg::cuda
