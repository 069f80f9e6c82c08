#include "core/tensor.h"

#include <cstring>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/dispatch.h"
#include "kernels/cpu/strided_copy.h"
#include "kernels/cpu_fast/strided_loops.h"
#include "kernels/cuda/elementwise.h"

namespace rtseg {

namespace {

std::shared_ptr<TensorImpl> new_impl(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    RTSEG_CHECK(d >= 0, "tensor: negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return impl;
}

template <typename Src>
void copy_converting(const Tensor& dst, const Src* src, const Shape& src_strides) {
  const Backend backend = backend_for(dst.device(), dst.dtype());
  RTSEG_DISPATCH_ALL(dst.dtype(), "copy_from", [&] {
    if (backend == Backend::CpuReference) {
      cpu::strided_copy(dst.data<scalar_t>(), dst.strides(), src, src_strides, dst.shape());
    } else if (backend == Backend::CpuFast) {
      RTSEG_CPU_FAST_ONLY("copy_from", cpu_fast::strided_copy(dst.data<scalar_t>(), dst.strides(),
                                                              src, src_strides, dst.shape()));
    } else {
      RTSEG_CUDA_ONLY(
          "copy_from",
          cuda::strided_copy(cuda::Exec{cuda::stream_of(dst.device().index), dst.device().index},
                             dst.data<scalar_t>(), make_strided_shape(dst.shape(), dst.strides()),
                             src, make_strided_shape(dst.shape(), src_strides), dst.numel()));
    }
  });
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  return Tensor(new_impl(shape, dtype, device));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (t.numel() > 0) {
    if (device.is_cpu()) {
      std::memset(t.raw_data(), 0, static_cast<size_t>(t.numel()) * dtype_size(dtype));
    } else {
      t.fill(0.0);
    }
  }
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor host = empty(shape, dtype, Device::cpu());
  host.fill(value);
  return host.to(device);
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  RTSEG_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
              "from_vector: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor host = empty(shape, dtype_of<T>::value, Device::cpu());
  if (!values.empty()) std::memcpy(host.raw_data(), values.data(), values.size() * sizeof(T));
  return host.to(device);
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);

Tensor Tensor::from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype,
                            Device device) {
  return from_vector(values, shape).to(dtype).to(device);
}

TensorImpl& Tensor::impl() const {
  RTSEG_CHECK(impl_ != nullptr, "tensor: use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t rank = dim();
  const int64_t i = d < 0 ? d + rank : d;
  RTSEG_CHECK(i >= 0 && i < rank, "tensor: dimension {} out of range for shape {}", d,
              shape_str(shape()));
  return shape()[i];
}

bool Tensor::is_contiguous() const {
  const Shape expected = contiguous_strides(shape());
  for (size_t i = 0; i < expected.size(); ++i) {
    if (shape()[i] != 1 && strides()[i] != expected[i]) return false;
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return fmt::format("{}{} {}", dtype_name(dtype()), shape_str(shape()), device().str());
}

template <typename T>
T* Tensor::data() const {
  RTSEG_CHECK(dtype_of<T>::value == dtype(), "tensor: data<{}>() on a {} tensor",
              dtype_name(dtype_of<T>::value), describe());
  return static_cast<T*>(impl().storage->data()) + impl().offset;
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template uint8_t* Tensor::data<uint8_t>() const;

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * dtype_size(dtype());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  RTSEG_CHECK(dtype_of<T>::value == dtype(), "to_vector: asked for {} from a {} tensor",
              dtype_name(dtype_of<T>::value), describe());
  Tensor host = to(Device::cpu()).clone();
  std::vector<T> out(static_cast<size_t>(numel()));
  if (!out.empty()) std::memcpy(out.data(), host.raw_data(), out.size() * sizeof(T));
  return out;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

std::vector<double> Tensor::to_doubles() const { return to(DType::F64).to_vector<double>(); }

double Tensor::item() const {
  RTSEG_CHECK(numel() == 1, "item: tensor {} has {} elements, not 1", describe(), numel());
  return to_doubles()[0];
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_from(*this);
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->dtype = impl_->dtype;
  return Tensor(impl);
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor src = is_contiguous() ? *this : clone();
  Tensor out = empty(shape(), dtype(), target);
  copy_bytes(out.raw_data(), target, src.raw_data(), src.device(), numel() * dtype_size(dtype()));
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), target, device());
  out.copy_from(*this);
  return out;
}

void Tensor::copy_from(const Tensor& src) const {
  RTSEG_CHECK(src.shape() == shape(), "copy_from: source {} does not match destination {}",
              src.describe(), describe());
  if (src.device() != device()) {
    RTSEG_CHECK(src.dtype() == dtype(),
                "copy_from: cross-device copy needs equal dtypes ({} -> {})", src.describe(),
                describe());
    Tensor moved = src.to(device());
    copy_from(moved);
    return;
  }
  RTSEG_CHECK(dim() <= kMaxDims, "copy_from: rank {} is above the supported {}", dim(), kMaxDims);
  RTSEG_DISPATCH_ALL(src.dtype(), "copy_from",
                     [&] { copy_converting(*this, src.data<scalar_t>(), src.strides()); });
}

void Tensor::fill(double value) const {
  RTSEG_CHECK(!grad_fn(), "fill: cannot overwrite {} which was produced by a recorded op",
              describe());
  if (is_contiguous()) {
    RTSEG_DISPATCH_ALL(dtype(), "fill", [&] {
      scalar_t* p = data<scalar_t>();
      const scalar_t v = static_cast<scalar_t>(value);
      if (device().is_cpu()) {
        for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = v;
      } else {
        RTSEG_CUDA_ONLY(
            "fill",
            cuda::fill(cuda::Exec{cuda::stream_of(device().index), device().index}, p, numel(), v));
      }
    });
  } else {
    copy_from(full(shape(), value, dtype(), Device::cpu()));
  }
}

bool Tensor::requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }

Tensor& Tensor::set_requires_grad(bool value) {
  RTSEG_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can change requires_grad ({})",
              describe());
  RTSEG_CHECK(!value || is_floating(dtype()),
              "set_requires_grad: only floating tensors can require gradients ({})", describe());
  impl().requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined()) {
    RTSEG_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(),
                "set_grad: gradient {} does not match tensor {}", g.describe(), describe());
  }
  impl().grad = g.defined() ? g.impl_ptr() : nullptr;
}

void Tensor::zero_grad() const { impl().grad = nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::run_backward(*this, gradient, retain_graph);
}

Tensor as_contiguous(const Tensor& t) { return t.is_contiguous() ? t.detach() : t.clone(); }

Tensor make_view(const Tensor& base, int64_t offset, const Shape& shape, const Shape& strides) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = base.dtype();
  return Tensor(impl);
}

}  // namespace rtseg
