// Tensor: a handle to a view (offset, shape, strides, dtype) of a Storage, plus its autograd
// state. Copying a Tensor copies the handle, not the data (as in PyTorch). Layout is row-major;
// 4-D image tensors are NCHW and conv weights OIHW, exactly as PyTorch, so checkpoints move
// across unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"
#include "kernels/error.h"

namespace rtseg {

namespace autograd {
class Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::F32;
  // Autograd: a leaf that wants a gradient has requires_grad; a result of a recorded op has
  // grad_fn (and output_nr, its index among that node's outputs).
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories (all results are contiguous leaves without requires_grad)
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::cpu());
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());
  // Same as from_vector, converting the values to `dtype` (handy for tests: one list, any dtype).
  static Tensor from_doubles(const std::vector<double>& values, const Shape& shape,
                             DType dtype = DType::F32, Device device = Device::cpu());

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  int64_t offset() const { return impl().offset; }
  bool is_contiguous() const;
  // "float32[2, 3, 4, 4] cpu"
  std::string describe() const;

  // ---- data access (host pointers only make sense for CPU tensors)
  template <typename T>
  T* data() const;
  void* raw_data() const;
  template <typename T>
  std::vector<T> to_vector() const;        // contiguous copy to host, checked dtype
  std::vector<double> to_doubles() const;  // any dtype, converted
  double item() const;                     // the single element of a 1-element tensor

  // ---- copies and views without autograd
  Tensor clone() const;            // deep contiguous copy, detached
  Tensor detach() const;           // same storage, no autograd history
  Tensor to(Device device) const;  // detached copy on another device (or *this)
  Tensor to(DType dtype) const;    // detached converted copy (or *this)
  // Elementwise copy into this tensor's memory (same shape; either side may be a strided view).
  void copy_from(const Tensor& src) const;
  void fill(double value) const;  // in place; for initialisation, never on recorded tensors

  // ---- autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient (the next backward writes a fresh one)
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  // Back-propagates from this tensor. Without `gradient`, the tensor must hold one element and
  // the seed is 1. The recorded graph is released afterwards unless retain_graph is set.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same_impl(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// `t` itself (detached) when contiguous, else a contiguous copy: what CPU kernels read.
Tensor as_contiguous(const Tensor& t);

// A view of `base`'s storage with another offset/shape/strides (no autograd, no copy).
Tensor make_view(const Tensor& base, int64_t offset, const Shape& shape, const Shape& strides);

}  // namespace rtseg
