// ICFRNet's complexity distillation term kl_div_softmax (docs/icfrnet.md, "IC loss").
#include "kernels/cpu/loss_kl.h"

#include <cmath>

#include "core/autograd.h"
#include "core/kernel_dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"
#include "kernels/cuda/loss_kl.h"

namespace rtseg {

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
  RTSEG_CHECK(!s.device().is_cuda() || g.n <= cuda::kKlMaxImages,
              "{}: at most {} images on CUDA, got {}", op, cuda::kKlMaxImages, g.n);
  // The per-image softmax statistics are computed once and kept for the backward; the loss and
  // the incoming gradient stay on the tensors' device.
  const Device device = s.device();
  Tensor out = Tensor::empty(Shape{}, s.dtype(), device);
  Tensor stats = Tensor::empty({g.n, 4}, DType::F64, device);
  RTSEG_DISPATCH_KERNELS(s, op, [&](const auto& exec) {
    const Workspace ws(kl_softmax_workspace_bytes(exec, g), DType::U8, device);
    kl_softmax_forward(exec, out.data<scalar_t>(), stats.data<double>(), s.data<scalar_t>(),
                       t.data<scalar_t>(), g, temperature, factor, ws.bytes());
  });
  // The teacher is a constant (the IC loss detaches it): it is deliberately not an input of the
  // node, so even a teacher that requires grad receives no gradient from this loss.
  autograd::record(op, {student}, {out},
                   [op, s, t, g, temperature, factor, stats](const autograd::TensorList& grads,
                                                             const std::vector<bool>&) {
                     const Tensor go = as_contiguous(grads[0]);
                     Tensor gs = Tensor::empty(s.shape(), s.dtype(), s.device());
                     RTSEG_DISPATCH_KERNELS(s, op, [&](const auto& exec) {
                       kl_softmax_backward(exec, gs.data<scalar_t>(), s.data<scalar_t>(),
                                           t.data<scalar_t>(), g, temperature, factor,
                                           stats.data<double>(), go.data<scalar_t>());
                     });
                     return autograd::TensorList{gs};
                   });
  return out;
}

}  // namespace rtseg
