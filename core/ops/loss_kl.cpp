// ICFRNet's complexity distillation term kl_div_softmax (docs/icfrnet.md, "IC loss").
#include "kernels/cpu/loss_kl.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"
#include "kernels/cuda/loss_kl.h"

namespace rtseg {

namespace {

#ifdef RTSEG_HAVE_CUDA
// On CUDA the per-image softmax statistics are computed once, on the device, and kept for the
// backward; the loss and the incoming gradient never leave the device.
Tensor kl_div_softmax_cuda(const char* op, const Tensor& student, const Tensor& s, const Tensor& t,
                           const cpu::ImageMapGeometry& g, double temperature, double factor) {
  RTSEG_CHECK(g.n <= cuda::kKlMaxImages, "{}: at most {} images on CUDA, got {}", op,
              cuda::kKlMaxImages, g.n);
  const Device device = s.device();
  Tensor out = Tensor::empty(Shape{}, s.dtype(), device);
  Tensor stats = Tensor::empty({g.n, 4}, DType::F64, device);
  Tensor workspace = Tensor::empty({cuda::kl_softmax_workspace_bytes(g)}, DType::U8, device);
  RTSEG_DISPATCH_FLOATING(s.dtype(), op, [&] {
    cuda::kl_softmax_forward(out.data<scalar_t>(), stats.data<double>(), s.data<scalar_t>(),
                             t.data<scalar_t>(), g, temperature, factor, workspace.raw_data(),
                             cuda::stream_of(device.index));
  });
  autograd::record(op, {student}, {out},
                   [op, s, t, g, temperature, factor, stats](const autograd::TensorList& grads,
                                                             const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gs = Tensor::empty(s.shape(), s.dtype(), s.device());
                     RTSEG_DISPATCH_FLOATING(s.dtype(), op, [&] {
                       cuda::kl_softmax_backward(gs.data<scalar_t>(), s.data<scalar_t>(),
                                                 t.data<scalar_t>(), g, temperature, factor,
                                                 stats.data<double>(), go.data<scalar_t>(),
                                                 cuda::stream_of(s.device().index));
                     });
                     return autograd::TensorList{gs};
                   });
  return out;
}
#endif

}  // namespace

Tensor kl_div_softmax(const Tensor& student, const Tensor& teacher, double temperature) {
  const char* op = "kl_div_softmax";
  check::floating(op, student, "student");
  check::floating(op, teacher, "teacher");
  check::compatible(op, student, "student", teacher, "teacher");
  // One map per image: the softmax runs over all its positions, so a multi-channel input would
  // silently mix channels; ask for the 1-channel map the IC loss uses.
  const bool map_shape = student.dim() == 3 || (student.dim() == 4 && student.size(1) == 1);
  RTSEG_CHECK(map_shape, "{}: student must be N×1×H×W or N×H×W, got {}", op, student.describe());
  RTSEG_CHECK(student.shape() == teacher.shape(), "{}: student is {} but teacher is {}", op,
              student.describe(), teacher.describe());
  RTSEG_CHECK(temperature > 0.0 && std::isfinite(temperature),
              "{}: temperature must be positive and finite, got {}", op, temperature);
  cpu::ImageMapGeometry g;
  g.n = student.size(0);
  RTSEG_CHECK(g.n > 0 && student.numel() > 0, "{}: student is empty: {}", op, student.describe());
  g.m = student.numel() / g.n;
  const Tensor s = as_contiguous(student);
  const Tensor t = as_contiguous(teacher);
  // "batchmean" with the T² factor of Hinton's distillation (keeps gradients T-independent).
  const double factor = temperature * temperature / static_cast<double>(g.n);
  if (!s.device().is_cpu()) {
    RTSEG_CUDA_ONLY(op, return kl_div_softmax_cuda(op, student, s, t, g, temperature, factor));
  }
  double total = 0.0;
  RTSEG_DISPATCH_FLOATING(s.dtype(), op, [&] {
    total = cpu::kl_softmax_forward(s.data<scalar_t>(), t.data<scalar_t>(), g, temperature);
  });
  Tensor out = Tensor::full(Shape{}, factor * total, s.dtype(), s.device());
  // The teacher is a constant (the IC loss detaches it): it is deliberately not an input of the
  // node, so even a teacher that requires grad receives no gradient from this loss.
  autograd::record(op, {student}, {out},
                   [op, s, t, g, temperature, factor](const autograd::TensorList& grads,
                                                      const std::vector<bool>&) {
                     const double scale = grads[0].item() * factor / temperature;
                     Tensor gs = Tensor::empty(s.shape(), s.dtype(), s.device());
                     RTSEG_DISPATCH_FLOATING(s.dtype(), op, [&] {
                       cpu::kl_softmax_backward(gs.data<scalar_t>(), s.data<scalar_t>(),
                                                t.data<scalar_t>(), g, temperature, scale);
                     });
                     return autograd::TensorList{gs};
                   });
  return out;
}

}  // namespace rtseg
