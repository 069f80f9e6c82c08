// Batch normalisation kernels. Training statistics take two deterministic reduction passes over
// x (Σx, then Σ(x − mean)²), each followed by a one-thread-per-channel kernel that combines the
// partials; normalisation and dx are per-plane elementwise kernels. The arithmetic follows
// kernels/cpu/batch_norm.h expression by expression (double where it uses double), so the GPU
// and CPU results differ only by the summation order of the double sums (and, for the T-typed
// normalisation y = (x − mean)·scale + shift, by the fused multiply-add nvcc may form).
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/channel_reduce.cuh"

namespace rtseg::cuda {

namespace {

// Workspace layout: the partial sums (up to 2 per chunk), then 2 doubles per channel.
struct Workspace {
  ChannelReducePlan plan;
  double* partial;
  double* channel;
};

Workspace split_workspace(double* workspace, int64_t n, int64_t c, int64_t s) {
  const ChannelReducePlan plan = plan_channel_reduce(n, c, s);
  return {plan, workspace, workspace + c * plan.parts * 2};
}

template <typename T>
struct SumOfX {
  const T* x;
  __device__ void operator()(Sums<1>& acc, int64_t, int64_t at) const {
    acc.v[0] += static_cast<double>(x[at]);
  }
};

template <typename T>
struct SumOfCenteredSquares {
  const T* x;
  const double* mean;  // per channel, the unrounded double mean
  __device__ void operator()(Sums<1>& acc, int64_t k, int64_t at) const {
    const double d = static_cast<double>(x[at]) - mean[k];
    acc.v[0] += d * d;
  }
};

// Σg and Σ g·x̂ with x̂ = (x − mean)·invstd from the saved (T) mean and invstd.
template <typename T>
struct GradSums {
  const T* grad;
  const T* x;
  const T* mean;
  const T* invstd;
  __device__ void operator()(Sums<2>& acc, int64_t k, int64_t at) const {
    const double m = static_cast<double>(mean[k]), is = static_cast<double>(invstd[k]);
    const double g = static_cast<double>(grad[at]);
    acc.v[0] += g;
    acc.v[1] += g * ((static_cast<double>(x[at]) - m) * is);
  }
};

template <typename T>
__global__ void mean_kernel(T* mean, double* mean_d, const double* partial, int64_t c,
                            int64_t parts, double count) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    const double m = channel_total<1>(partial, k, parts, 0) / count;
    mean_d[k] = m;
    mean[k] = static_cast<T>(m);
  }
}

template <typename T>
__global__ void var_kernel(T* var, const double* partial, int64_t c, int64_t parts, double count) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    var[k] = static_cast<T>(channel_total<1>(partial, k, parts, 0) / count);
  }
}

template <typename T>
__global__ void update_running_kernel(T* running_mean, T* running_var, const T* mean, const T* var,
                                      int64_t c, double momentum, double unbias) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    running_mean[k] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_mean[k]) +
                                     momentum * static_cast<double>(mean[k]));
    running_var[k] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_var[k]) +
                                    momentum * unbias * static_cast<double>(var[k]));
  }
}

template <typename T>
__global__ void invstd_kernel(T* invstd, const T* var, int64_t c, double eps) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    invstd[k] = static_cast<T>(1.0 / sqrt(static_cast<double>(var[k]) + eps));
  }
}

template <typename T>
__global__ void normalize_kernel(T* y, const T* x, const T* mean, const T* invstd, const T* weight,
                                 const T* bias, int64_t c, int64_t s, int64_t planes) {
  RTSEG_PLANE_LOOP(plane, planes) {
    const int64_t k = plane % c;
    const T scale = invstd[k] * (weight ? weight[k] : T(1));
    const T shift = bias ? bias[k] : T(0);
    const T m = mean[k];
    const T* xp = x + plane * s;
    T* yp = y + plane * s;
    RTSEG_PLANE_ELEMENT_LOOP(i, s) { yp[i] = (xp[i] - m) * scale + shift; }
  }
}

template <typename T>
__global__ void grad_sums_kernel(T* dweight, T* dbias, double* sums, const double* partial,
                                 int64_t c, int64_t parts) {
  RTSEG_GRID_STRIDE_LOOP(k, c) {
    const double sum_g = channel_total<2>(partial, k, parts, 0);
    const double sum_gx = channel_total<2>(partial, k, parts, 1);
    sums[2 * k] = sum_g;
    sums[2 * k + 1] = sum_gx;
    if (dweight) dweight[k] = static_cast<T>(sum_gx);
    if (dbias) dbias[k] = static_cast<T>(sum_g);
  }
}

// sums (Σg, Σ g·x̂ per channel) is read only with batch statistics.
template <typename T>
__global__ void grad_input_kernel(T* dx, const T* grad, const T* x, const T* mean, const T* invstd,
                                  const T* weight, const double* sums, int64_t c, int64_t s,
                                  int64_t planes, double count, bool batch_stats) {
  RTSEG_PLANE_LOOP(plane, planes) {
    const int64_t k = plane % c;
    const double m = static_cast<double>(mean[k]), is = static_cast<double>(invstd[k]);
    const double gamma = weight ? static_cast<double>(weight[k]) : 1.0;
    const T* gp = grad + plane * s;
    const T* xp = x + plane * s;
    T* dp = dx + plane * s;
    if (batch_stats) {
      const double sum_g = sums[2 * k], sum_gx = sums[2 * k + 1];
      RTSEG_PLANE_ELEMENT_LOOP(i, s) {
        const double xhat = (static_cast<double>(xp[i]) - m) * is;
        dp[i] = static_cast<T>(gamma * is / count *
                               (count * static_cast<double>(gp[i]) - sum_g - xhat * sum_gx));
      }
    } else {
      RTSEG_PLANE_ELEMENT_LOOP(i, s) {
        dp[i] = static_cast<T>(gamma * is * static_cast<double>(gp[i]));
      }
    }
  }
}

}  // namespace

int64_t batch_norm_workspace_size(const Exec&, int64_t n, int64_t c, int64_t s) {
  return c * plan_channel_reduce(n, c, s).parts * 2 + 2 * c;
}

template <typename T>
void batch_norm_stats(const Exec& exec, T* mean, T* var, const T* x, int64_t n, int64_t c,
                      int64_t s, double* workspace) {
  if (c == 0) return;
  const Workspace ws = split_workspace(workspace, n, c, s);
  const double count = static_cast<double>(n * s);
  const dim3 grid = channel_reduce_grid(ws.plan, c);
  RTSEG_LAUNCH(grid, kThreads, 0, exec.stream, channel_partial_sums_kernel<1>)
  (ws.partial, n, c, s, ws.plan, SumOfX<T>{x});
  check_launch("batch_norm statistics (mean)");
  RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, mean_kernel)
  (mean, ws.channel, ws.partial, c, ws.plan.parts, count);
  check_launch("batch_norm statistics (mean)");
  RTSEG_LAUNCH(grid, kThreads, 0, exec.stream, channel_partial_sums_kernel<1>)
  (ws.partial, n, c, s, ws.plan, SumOfCenteredSquares<T>{x, ws.channel});
  check_launch("batch_norm statistics (variance)");
  RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, var_kernel)
  (var, ws.partial, c, ws.plan.parts, count);
  check_launch("batch_norm statistics (variance)");
}

template <typename T>
void batch_norm_update_running(const Exec& exec, T* running_mean, T* running_var, const T* mean,
                               const T* var, int64_t c, int64_t count, double momentum) {
  if (c == 0) return;
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, update_running_kernel)
  (running_mean, running_var, mean, var, c, momentum, unbias);
  check_launch("batch_norm running statistics");
}

template <typename T>
void batch_norm_forward(const Exec& exec, T* y, T* invstd, const T* x, const T* mean, const T* var,
                        const T* weight, const T* bias, int64_t n, int64_t c, int64_t s,
                        double eps) {
  if (c == 0) return;
  RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, invstd_kernel)(invstd, var, c, eps);
  check_launch("batch_norm");
  const int64_t planes = n * c;
  if (planes * s == 0) return;
  RTSEG_LAUNCH(plane_grid(planes, s), kThreads, 0, exec.stream, normalize_kernel)
  (y, x, mean, invstd, weight, bias, c, s, planes);
  check_launch("batch_norm");
}

template <typename T>
void batch_norm_backward(const Exec& exec, T* dx, T* dweight, T* dbias, const T* grad, const T* x,
                         const T* mean, const T* invstd, const T* weight, int64_t n, int64_t c,
                         int64_t s, bool batch_stats, double* workspace) {
  if (c == 0) return;
  const Workspace ws = split_workspace(workspace, n, c, s);
  const double count = static_cast<double>(n * s);
  const bool need_sums = dweight || dbias || (dx && batch_stats);
  if (need_sums) {
    RTSEG_LAUNCH(channel_reduce_grid(ws.plan, c), kThreads, 0, exec.stream,
                 channel_partial_sums_kernel<2>)
    (ws.partial, n, c, s, ws.plan, GradSums<T>{grad, x, mean, invstd});
    check_launch("batch_norm backward");
    RTSEG_LAUNCH(blocks_for(c), kThreads, 0, exec.stream, grad_sums_kernel)
    (dweight, dbias, ws.channel, ws.partial, c, ws.plan.parts);
    check_launch("batch_norm backward");
  }
  const int64_t planes = n * c;
  if (!dx || planes * s == 0) return;
  RTSEG_LAUNCH(plane_grid(planes, s), kThreads, 0, exec.stream, grad_input_kernel)
  (dx, grad, x, mean, invstd, weight, ws.channel, c, s, planes, count, batch_stats);
  check_launch("batch_norm backward");
}

#define RTSEG_INSTANTIATE_BATCH_NORM(T)                                                            \
  template void batch_norm_stats<T>(const Exec&, T*, T*, const T*, int64_t, int64_t, int64_t,      \
                                    double*);                                                      \
  template void batch_norm_update_running<T>(const Exec&, T*, T*, const T*, const T*, int64_t,     \
                                             int64_t, double);                                     \
  template void batch_norm_forward<T>(const Exec&, T*, T*, const T*, const T*, const T*, const T*, \
                                      const T*, int64_t, int64_t, int64_t, double);                \
  template void batch_norm_backward<T>(const Exec&, T*, T*, T*, const T*, const T*, const T*,      \
                                       const T*, const T*, int64_t, int64_t, int64_t, bool,        \
                                       double*);
RTSEG_INSTANTIATE_BATCH_NORM(float)
RTSEG_INSTANTIATE_BATCH_NORM(double)

}  // namespace rtseg::cuda
