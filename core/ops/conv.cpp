#include "core/ops/conv.h"

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops/activation.h"
#include "core/ops/elementwise.h"
#include "core/profile.h"
#include "kernels/conv_geometry.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu_fast/conv2d.h"
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/conv_select.h"
#include "kernels/cuda/cublas.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/depthwise_conv.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/grouped_conv.h"
#include "kernels/cuda/runtime/stream.h"

namespace rtseg {

namespace {

std::string pair_str(const std::array<int64_t, 2>& v) {
  return fmt::format("({}, {})", v[0], v[1]);
}

// Validates everything conv2d is given and returns the geometry the kernels run on. Every message
// names the op and the tensors, so a failure deep inside a net says which layer is wrong.
Conv2dGeometry conv2d_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                               const Conv2dParams& p) {
  const char* op = "conv2d";
  check::floating(op, x, "input");
  check::floating(op, weight, "weight");
  check::rank(op, x, 4, "input");
  check::rank(op, weight, 4, "weight");
  check::compatible(op, x, "input", weight, "weight");
  if (bias.defined()) {
    check::rank(op, bias, 1, "bias");
    check::compatible(op, x, "input", bias, "bias");
  }
  const std::string shapes = fmt::format("input {}, weight {}", x.describe(), weight.describe());
  for (int i = 0; i < 2; ++i) {
    RTSEG_CHECK(p.stride[i] > 0, "conv2d: stride must be positive, got {} ({})", pair_str(p.stride),
                shapes);
    RTSEG_CHECK(p.dilation[i] > 0, "conv2d: dilation must be positive, got {} ({})",
                pair_str(p.dilation), shapes);
    RTSEG_CHECK(p.padding[i] >= 0, "conv2d: padding must be non-negative, got {} ({})",
                pair_str(p.padding), shapes);
  }
  RTSEG_CHECK(p.groups > 0, "conv2d: groups must be positive, got {} ({})", p.groups, shapes);

  Conv2dGeometry g;
  g.n = x.size(0);
  g.c = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.k = weight.size(0);
  g.r = weight.size(2);
  g.s = weight.size(3);
  g.groups = p.groups;
  g.stride_h = p.stride[0];
  g.stride_w = p.stride[1];
  g.pad_h = p.padding[0];
  g.pad_w = p.padding[1];
  g.dil_h = p.dilation[0];
  g.dil_w = p.dilation[1];

  RTSEG_CHECK(g.c % g.groups == 0, "conv2d: input has {} channels, not divisible by groups {} ({})",
              g.c, g.groups, shapes);
  RTSEG_CHECK(g.k % g.groups == 0,
              "conv2d: weight has {} output channels, not divisible by groups {} ({})", g.k,
              g.groups, shapes);
  RTSEG_CHECK(weight.size(1) == g.c_per_group(),
              "conv2d: weight has {} input channels per group but input has {} channels in {} "
              "group(s), i.e. {} per group ({})",
              weight.size(1), g.c, g.groups, g.c_per_group(), shapes);
  RTSEG_CHECK(g.r > 0 && g.s > 0, "conv2d: weight has an empty kernel ({})", shapes);
  if (bias.defined()) {
    RTSEG_CHECK(bias.size(0) == g.k,
                "conv2d: bias has {} elements but weight has {} output channels (bias {}, {})",
                bias.size(0), g.k, bias.describe(), shapes);
  }
  g.oh = conv_output_size(g.h, g.r, g.stride_h, g.pad_h, g.dil_h);
  g.ow = conv_output_size(g.w, g.s, g.stride_w, g.pad_w, g.dil_w);
  RTSEG_CHECK(g.oh > 0 && g.ow > 0,
              "conv2d: input is too small for the kernel: output would be {}×{} ({}, padding {}, "
              "dilation {}, stride {})",
              g.oh, g.ow, shapes, pair_str(p.padding), pair_str(p.dilation), pair_str(p.stride));
  return g;
}

// Every convolution reports its cost, a layer's or a functional call alike (summaries).
void report_conv_cost(const Conv2dGeometry& g, bool bias) {
  OpCost cost{OpCost::Kind::Conv};
  cost.elements = g.n * g.k * g.oh * g.ow;
  cost.macs = cost.elements * g.c_per_group() * g.r * g.s;
  cost.bias = bias;
  report_cost(cost);
}

Tensor apply_conv_epilogue(const Tensor& y, ConvEpilogue e) {
  switch (e) {
    case ConvEpilogue::None:
      return y;
    case ConvEpilogue::Relu:
      return relu(y);
    case ConvEpilogue::Relu6:
      return relu6(y);
  }
  return y;
}

#ifdef RTSEG_HAVE_CUDA
// The CUDA side of conv2d: every pass goes to the kernel cuda::choose_conv_backend names
// (kernels/cuda/conv_select.h). cuDNN computes no bias, so it is added / reduced separately.

template <typename T>
void conv2d_forward_cuda(T* y, const T* x, const T* w, const T* b, const Conv2dGeometry& g,
                         ConvEpilogue epilogue, int device) {
  const cuda::Stream stream = cuda::stream_of(device);
  switch (cuda::choose_conv_backend(g)) {
    case cuda::ConvBackend::Depthwise:
      cuda::depthwise_conv2d_forward(y, x, w, b, g, epilogue, stream);
      return;
    case cuda::ConvBackend::Grouped:
      cuda::grouped_conv2d_forward(y, x, w, b, g, stream);
      break;
    case cuda::ConvBackend::Cudnn:
      cuda::cudnn_conv2d_forward(y, x, w, g, device);
      if (b) cuda::channel_bias_add(y, b, g.n, g.k, g.oh * g.ow, stream);
      break;
  }
  // The other kernels have no epilogue: the activation in place.
  const cuda::Exec exec{stream, device};
  if (epilogue == ConvEpilogue::Relu)
    cuda::unary_forward(exec, unary::Relu{}, T(0), y, y, g.output_numel());
  if (epilogue == ConvEpilogue::Relu6)
    cuda::unary_forward(exec, unary::Relu6{}, T(0), y, y, g.output_numel());
}

template <typename T>
void conv2d_backward_input_cuda(T* dx, const T* dy, const T* w, const Conv2dGeometry& g,
                                int device) {
  const cuda::Stream stream = cuda::stream_of(device);
  switch (cuda::choose_conv_backend(g)) {
    case cuda::ConvBackend::Depthwise:
      cuda::depthwise_conv2d_backward_data(dx, dy, w, g, stream);
      return;
    case cuda::ConvBackend::Grouped:
      cuda::grouped_conv2d_backward_data(dx, dy, w, g, stream);
      return;
    case cuda::ConvBackend::Cudnn:
      cuda::cudnn_conv2d_backward_data(dx, dy, w, g, device);
      return;
  }
}

// The depthwise and grouped backends share one weight-gradient kernel (grouped_conv.h).
template <typename T>
void conv2d_backward_weight_cuda(T* dw, const T* dy, const T* x, const Conv2dGeometry& g,
                                 DType dtype, int device) {
  if (cuda::choose_conv_backend(g) == cuda::ConvBackend::Cudnn) {
    cuda::cudnn_conv2d_backward_filter(dw, dy, x, g, device);
    return;
  }
  const int64_t ws_elems = cuda::grouped_conv2d_backward_weight_workspace(g);
  const Tensor ws =
      ws_elems > 0 ? Tensor::empty({ws_elems}, dtype, Device::cuda(device)) : Tensor();
  cuda::grouped_conv2d_backward_weight(dw, dy, x, g, ws.defined() ? ws.data<T>() : nullptr,
                                       cuda::stream_of(device));
}
#endif

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Conv2dParams& p) {
  if (p.epilogue != ConvEpilogue::None && autograd::should_record({x_in, w_in, b_in})) {
    Conv2dParams plain = p;  // training: the activation as its own op, with its own node
    plain.epilogue = ConvEpilogue::None;
    return apply_conv_epilogue(conv2d(x_in, w_in, b_in, plain), p.epilogue);
  }
  const Conv2dGeometry g = conv2d_geometry(x_in, w_in, b_in, p);
  report_conv_cost(g, b_in.defined());
  if (shapes_only()) {  // a summary's dry run: the shape without the arithmetic
    return Tensor::zeros({g.n, g.k, g.oh, g.ow}, x_in.dtype(), x_in.device());
  }
  const Tensor x = as_contiguous(x_in);
  const Tensor w = as_contiguous(w_in);
  const Tensor b = b_in.defined() ? as_contiguous(b_in) : Tensor();
  Tensor y = Tensor::empty({g.n, g.k, g.oh, g.ow}, x.dtype(), x.device());
  const Backend backend = backend_for(x.device(), x.dtype());
  if (backend == Backend::CpuFast) {  // float32 only
    RTSEG_CPU_FAST_ONLY(
        "conv2d", cpu_fast::conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(),
                                           b.defined() ? b.data<float>() : nullptr, g, p.epilogue));
  } else {
    RTSEG_DISPATCH_FLOATING(x.dtype(), "conv2d", [&] {
      const scalar_t* bp = b.defined() ? b.data<scalar_t>() : nullptr;
      scalar_t* yp = y.data<scalar_t>();
      if (backend == Backend::CpuReference) {
        cpu::conv2d_forward(yp, x.data<scalar_t>(), w.data<scalar_t>(), bp, g);
        if (p.epilogue != ConvEpilogue::None) {
          for (int64_t i = 0; i < g.output_numel(); ++i) yp[i] = apply_epilogue(yp[i], p.epilogue);
        }
      } else {
        RTSEG_CUDA_ONLY("conv2d", conv2d_forward_cuda(yp, x.data<scalar_t>(), w.data<scalar_t>(),
                                                      bp, g, p.epilogue, x.device().index));
      }
    });
  }
  if (!autograd::should_record({x_in, w_in, b_in})) return y;
  // dx needs only the weight and dw only the input: keep what the gradients asked for need.
  const Tensor x_saved = w_in.requires_grad() ? x : Tensor();
  const Tensor w_saved = x_in.requires_grad() ? w : Tensor();
  autograd::record(
      "conv2d", {x_in, w_in, b_in}, {y},
      [g, x_saved, w_saved](const autograd::TensorList& grads, const std::vector<bool>& need) {
        const char* bop = "conv2d backward";
        const Tensor dy = as_contiguous(grads[0]);
        Tensor dx, dw, db;
        const Backend where = backend_for(dy.device(), dy.dtype());
        [[maybe_unused]] const int device = dy.device().index;
        if (need[0]) dx = Tensor::empty({g.n, g.c, g.h, g.w}, dy.dtype(), dy.device());
        if (need[1]) dw = Tensor::empty({g.k, g.c_per_group(), g.r, g.s}, dy.dtype(), dy.device());
        if (need[2]) db = Tensor::empty({g.k}, dy.dtype(), dy.device());
        if (where == Backend::CpuFast) {  // float32 only
          RTSEG_CPU_FAST_ONLY(bop, {
            const float* dyp = dy.data<float>();
            if (need[0])
              cpu_fast::conv2d_backward_input(dx.data<float>(), dyp, w_saved.data<float>(), g);
            if (need[1])
              cpu_fast::conv2d_backward_weight(dw.data<float>(), dyp, x_saved.data<float>(), g);
            if (need[2]) cpu_fast::conv2d_backward_bias(db.data<float>(), dyp, g);
          });
          return autograd::TensorList{dx, dw, db};
        }
        const bool cpu = where == Backend::CpuReference;
        RTSEG_DISPATCH_FLOATING(dy.dtype(), bop, [&] {
          const scalar_t* dyp = dy.data<scalar_t>();
          if (need[0]) {
            scalar_t* dxp = dx.data<scalar_t>();
            const scalar_t* wp = w_saved.data<scalar_t>();
            if (cpu) {
              cpu::conv2d_backward_input(dxp, dyp, wp, g);
            } else {
              RTSEG_CUDA_ONLY(bop, conv2d_backward_input_cuda(dxp, dyp, wp, g, device));
            }
          }
          if (need[1]) {
            scalar_t* dwp = dw.data<scalar_t>();
            const scalar_t* xp = x_saved.data<scalar_t>();
            if (cpu) {
              cpu::conv2d_backward_weight(dwp, dyp, xp, g);
            } else {
              RTSEG_CUDA_ONLY(bop,
                              conv2d_backward_weight_cuda(dwp, dyp, xp, g, dy.dtype(), device));
            }
          }
          if (need[2]) {
            scalar_t* dbp = db.data<scalar_t>();
            if (cpu) {
              cpu::conv2d_backward_bias(dbp, dyp, g);
            } else {
              RTSEG_CUDA_ONLY(bop, cuda::channel_bias_backward(dbp, dyp, g.n, g.k, g.oh * g.ow,
                                                               cuda::stream_of(device)));
            }
          }
        });
        return autograd::TensorList{dx, dw, db};
      });
  return y;
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  Conv2dParams p;
  p.stride = {stride, stride};
  p.padding = {padding, padding};
  p.dilation = {dilation, dilation};
  p.groups = groups;
  return conv2d(x, weight, bias, p);
}

Tensor conv2d_add(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Conv2dParams& p,
                  const Tensor& residual) {
  const Conv2dGeometry g = conv2d_geometry(x_in, w_in, b_in, p);
  check::defined("conv2d_add", residual, "residual");
  check::compatible("conv2d_add", x_in, "x", residual, "residual");
  check::shape_is("conv2d_add", residual, {g.n, g.k, g.oh, g.ow}, "residual (the conv's output)");
  const bool fused = backend_for(x_in.device(), x_in.dtype()) == Backend::CpuFast &&
                     !autograd::should_record({x_in, w_in, b_in, residual}) && !shapes_only();
  if (!fused) {  // the same arithmetic as ops: conv + bias, + residual, the activation
    Conv2dParams plain = p;
    plain.epilogue = ConvEpilogue::None;
    return apply_conv_epilogue(add(conv2d(x_in, w_in, b_in, plain), residual), p.epilogue);
  }
  report_conv_cost(g, b_in.defined());
  const Tensor x = as_contiguous(x_in), w = as_contiguous(w_in), r = as_contiguous(residual);
  const Tensor b = b_in.defined() ? as_contiguous(b_in) : Tensor();
  Tensor y = Tensor::empty({g.n, g.k, g.oh, g.ow}, x.dtype(), x.device());
  RTSEG_CPU_FAST_ONLY(
      "conv2d_add", cpu_fast::conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(),
                                             b.defined() ? b.data<float>() : nullptr, g, p.epilogue,
                                             r.data<float>()));
  return y;
}

const char* conv2d_cuda_backend(const Tensor& x, const Tensor& weight, const Conv2dParams& p) {
  return cuda::conv_backend_name(
      cuda::choose_conv_backend(conv2d_geometry(x, weight, Tensor(), p)));
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  const char* op = "matmul";
  check::floating(op, a_in, "a");
  check::floating(op, b_in, "b");
  check::rank(op, a_in, 2, "a");
  check::rank(op, b_in, 2, "b");
  check::compatible(op, a_in, "a", b_in, "b");
  RTSEG_CHECK(a_in.size(1) == b_in.size(0),
              "matmul: a is {} and b is {}: inner dimensions {} and {} differ", a_in.describe(),
              b_in.describe(), a_in.size(1), b_in.size(0));
  const int64_t m = a_in.size(0), k = a_in.size(1), n = b_in.size(1);
  const Tensor a = as_contiguous(a_in), b = as_contiguous(b_in);
  Tensor c = Tensor::empty({m, n}, a.dtype(), a.device());
  RTSEG_DISPATCH_FLOATING(a.dtype(), op, [&] {
    if (a.device().is_cpu()) {
      cpu::gemm(c.data<scalar_t>(), cpu::row_major(a.data<scalar_t>(), k),
                cpu::row_major(b.data<scalar_t>(), n), m, n, k);
    } else {
      RTSEG_CUDA_ONLY(op, cuda::gemm(op, a.device().index, false, false, m, n, k,
                                     a.data<scalar_t>(), b.data<scalar_t>(), c.data<scalar_t>()));
    }
  });
  if (!autograd::should_record({a_in, b_in})) return c;
  const Tensor a_saved = b_in.requires_grad() ? a : Tensor();
  const Tensor b_saved = a_in.requires_grad() ? b : Tensor();
  autograd::record(
      op, {a_in, b_in}, {c},
      [m, k, n, a_saved, b_saved](const autograd::TensorList& grads,
                                  const std::vector<bool>& need) {
        const char* bop = "matmul backward";
        const Tensor dc = as_contiguous(grads[0]);
        const bool cpu = dc.device().is_cpu();
        [[maybe_unused]] const int device = dc.device().index;
        Tensor da, db;
        RTSEG_DISPATCH_FLOATING(dc.dtype(), bop, [&] {
          const scalar_t* dcp = dc.data<scalar_t>();
          const auto dcv = cpu::row_major(dcp, n);
          if (need[0]) {  // da = dc · bᵀ
            da = Tensor::empty({m, k}, dc.dtype(), dc.device());
            const scalar_t* bp = b_saved.data<scalar_t>();
            if (cpu) {
              cpu::gemm(da.data<scalar_t>(), dcv, cpu::row_major(bp, n, true), m, k, n);
            } else {
              RTSEG_CUDA_ONLY(
                  bop, cuda::gemm(bop, device, false, true, m, k, n, dcp, bp, da.data<scalar_t>()));
            }
          }
          if (need[1]) {  // db = aᵀ · dc
            db = Tensor::empty({k, n}, dc.dtype(), dc.device());
            const scalar_t* ap = a_saved.data<scalar_t>();
            if (cpu) {
              cpu::gemm(db.data<scalar_t>(), cpu::row_major(ap, k, true), dcv, k, n, m);
            } else {
              RTSEG_CUDA_ONLY(
                  bop, cuda::gemm(bop, device, true, false, k, n, m, ap, dcp, db.data<scalar_t>()));
            }
          }
        });
        return autograd::TensorList{da, db};
      });
  return c;
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
  const char* op = "linear";
  check::floating(op, x_in, "input");
  check::floating(op, w_in, "weight");
  check::rank(op, x_in, 2, "input");
  check::rank(op, w_in, 2, "weight");
  check::compatible(op, x_in, "input", w_in, "weight");
  RTSEG_CHECK(x_in.size(1) == w_in.size(1),
              "linear: input {} has {} features but weight {} expects {}", x_in.describe(),
              x_in.size(1), w_in.describe(), w_in.size(1));
  if (b_in.defined()) {
    check::rank(op, b_in, 1, "bias");
    check::compatible(op, x_in, "input", b_in, "bias");
    RTSEG_CHECK(b_in.size(0) == w_in.size(0),
                "linear: bias {} has {} elements but weight {} has {} outputs", b_in.describe(),
                b_in.size(0), w_in.describe(), w_in.size(0));
  }
  const int64_t n = x_in.size(0), in = x_in.size(1), out = w_in.size(0);
  OpCost cost{OpCost::Kind::Linear};
  cost.elements = n * out;
  cost.macs = n * out * in;
  cost.bias = b_in.defined();
  report_cost(cost);
  const Tensor x = as_contiguous(x_in), w = as_contiguous(w_in);
  const Tensor b = b_in.defined() ? as_contiguous(b_in) : Tensor();
  Tensor y = Tensor::empty({n, out}, x.dtype(), x.device());
  RTSEG_DISPATCH_FLOATING(x.dtype(), op, [&] {
    // y = x · Wᵀ: W is out×in row-major, read transposed.
    if (x.device().is_cpu()) {
      cpu::gemm(y.data<scalar_t>(), cpu::row_major(x.data<scalar_t>(), in),
                cpu::row_major(w.data<scalar_t>(), in, true), n, out, in);
      if (b.defined()) cpu::add_row_bias(y.data<scalar_t>(), b.data<scalar_t>(), n, out);
    } else {
      RTSEG_CUDA_ONLY(op, {
        const int device = x.device().index;
        cuda::gemm(op, device, false, true, n, out, in, x.data<scalar_t>(), w.data<scalar_t>(),
                   y.data<scalar_t>());
        if (b.defined()) {
          cuda::channel_bias_add(y.data<scalar_t>(), b.data<scalar_t>(), n, out, 1,
                                 cuda::stream_of(device));
        }
      });
    }
  });
  if (!autograd::should_record({x_in, w_in, b_in})) return y;
  const Tensor x_saved = w_in.requires_grad() ? x : Tensor();
  const Tensor w_saved = x_in.requires_grad() ? w : Tensor();
  autograd::record(op, {x_in, w_in, b_in}, {y},
                   [n, in, out, x_saved, w_saved](const autograd::TensorList& grads,
                                                  const std::vector<bool>& need) {
                     const char* bop = "linear backward";
                     const Tensor dy = as_contiguous(grads[0]);
                     const bool cpu = dy.device().is_cpu();
                     [[maybe_unused]] const int device = dy.device().index;
                     Tensor dx, dw, db;
                     RTSEG_DISPATCH_FLOATING(dy.dtype(), bop, [&] {
                       const scalar_t* dyp = dy.data<scalar_t>();
                       if (need[0]) {  // dx = dy · W
                         dx = Tensor::empty({n, in}, dy.dtype(), dy.device());
                         const scalar_t* wp = w_saved.data<scalar_t>();
                         if (cpu) {
                           cpu::gemm(dx.data<scalar_t>(), cpu::row_major(dyp, out),
                                     cpu::row_major(wp, in), n, in, out);
                         } else {
                           RTSEG_CUDA_ONLY(bop, cuda::gemm(bop, device, false, false, n, in, out,
                                                           dyp, wp, dx.data<scalar_t>()));
                         }
                       }
                       if (need[1]) {  // dW = dyᵀ · x
                         dw = Tensor::empty({out, in}, dy.dtype(), dy.device());
                         const scalar_t* xp = x_saved.data<scalar_t>();
                         if (cpu) {
                           cpu::gemm(dw.data<scalar_t>(), cpu::row_major(dyp, out, true),
                                     cpu::row_major(xp, in), out, in, n);
                         } else {
                           RTSEG_CUDA_ONLY(bop, cuda::gemm(bop, device, true, false, out, in, n,
                                                           dyp, xp, dw.data<scalar_t>()));
                         }
                       }
                       if (need[2]) {  // db = Σ_rows dy
                         db = Tensor::empty({out}, dy.dtype(), dy.device());
                         if (cpu) {
                           cpu::sum_rows(db.data<scalar_t>(), dyp, n, out);
                         } else {
                           RTSEG_CUDA_ONLY(
                               bop, cuda::channel_bias_backward(db.data<scalar_t>(), dyp, n, out, 1,
                                                                cuda::stream_of(device)));
                         }
                       }
                     });
                     return autograd::TensorList{dx, dw, db};
                   });
  return y;
}

}  // namespace rtseg
