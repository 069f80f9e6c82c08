// ICFRNet's complexity distillation term kl_div_softmax (specs/ICFRNET.md §3).
#include "kernels/cpu/loss_kl.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/op_checks.h"
#include "core/ops/loss.h"

namespace rtseg {

Tensor kl_div_softmax(const Tensor& student, const Tensor& teacher, double temperature) {
  const char* op = "kl_div_softmax";
  check::floating(op, student, "student");
  check::floating(op, teacher, "teacher");
  check::compatible(op, student, "student", teacher, "teacher");
  check::cpu_kernel(op, student);
  // One map per image: the softmax runs over all its positions, so a multi-channel input would
  // silently mix channels; ask for the 1-channel map the spec describes.
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
  double total = 0.0;
  RTSEG_DISPATCH_FLOATING(s.dtype(), op, [&] {
    total = cpu::kl_softmax_forward(s.data<scalar_t>(), t.data<scalar_t>(), g, temperature);
  });
  // "batchmean" with the T² factor of Hinton's distillation (keeps gradients T-independent).
  const double factor = temperature * temperature / static_cast<double>(g.n);
  Tensor out = Tensor::full(Shape{}, factor * total, s.dtype(), s.device());
  // The teacher is a constant (the spec detaches it): it is deliberately not an input of the
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
