// Tensor: a typed, shaped, strided view of memory that is either owned
// (allocated by CpuAllocator, 64-byte aligned) or borrowed from the caller.
// Memory is on the host unless device() says otherwise: a device tensor (made by
// a device backend through Tensor::on_device) holds a device address that host
// code must never dereference; to_host() copies it back. Only compiled regions
// create and read device tensors; the interpreter copies them to the host before
// any reference kernel sees them (and counts it).
//
// Invariants: strides are in elements; a default-constructed Tensor is
// "undefined" (no dtype, no storage) and stands for an absent optional value.
// Tensors share storage on copy (like a shared_ptr); clone() deep-copies.
// Kernels receive contiguous inputs (the interpreter makes them so) and write
// fresh contiguous outputs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "runtime/DType.h"
#include "runtime/Device.h"
#include "runtime/Status.h"

namespace dj {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[2,3,4]"
Strides contiguous_strides(const Shape& shape);

// Thrown by Tensor::empty when memory cannot be had; the interpreter turns it
// into an OutOfMemory status naming the node. Never crosses the C API.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }
 private:
  std::string what_;
};

struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  bool owned = false;
  std::function<void()> on_release;  // for borrowed memory: called when the last view goes
  DeviceKind device = DeviceKind::Cpu;
  // A model's constant (an initializer): never written after loading, read on every
  // run, so kernels may keep prepared copies of it (runtime/ops/PreparedWeights.h).
  bool model_constant = false;
  // Device memory only: copies `bytes` starting at byte `offset` into host memory.
  std::function<Status(size_t offset, void* host, size_t bytes)> copy_to_host;
  ~Storage();
};

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(DType dtype, const Shape& shape);  // throws AllocationError
  static Expected<Tensor> try_empty(DType dtype, const Shape& shape);
  static Tensor zeros(DType dtype, const Shape& shape);
  // Borrow caller memory; `strides` empty means contiguous. on_release runs when the
  // last Tensor viewing it is destroyed.
  static Tensor borrow(void* data, DType dtype, const Shape& shape, const Strides& strides = {},
                       std::function<void()> on_release = {});

  // Device memory (contiguous): `release` frees it when the last view goes,
  // `copy_to_host` reads it back (see Storage).
  static Tensor on_device(void* device_address, DType dtype, const Shape& shape, DeviceKind device,
                          std::function<void()> release,
                          std::function<Status(size_t offset, void* host, size_t bytes)> copy_to_host);

  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    Tensor t = empty(DTypeOf<T>::value, shape);
    T* d = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) d[i] = values[i];
    return t;
  }
  template <typename T>
  static Tensor scalar(T value) { return from_vector<T>({value}, {}); }

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;
  bool is_borrowed() const { return storage_ && !storage_->owned; }
  // Set by the loader on initializers (Storage::model_constant); views share it.
  bool is_model_constant() const { return storage_ && storage_->model_constant; }
  void mark_model_constant() {
    if (storage_) storage_->model_constant = true;
  }
  DeviceKind device() const { return storage_ ? storage_->device : DeviceKind::Cpu; }
  bool on_host() const { return device() == DeviceKind::Cpu; }
  // *this when on the host; else a fresh host copy (an OutOfMemory or device error otherwise).
  Expected<Tensor> to_host() const;

  void* raw_data() { return storage_ ? static_cast<char*>(storage_->data) + offset_bytes_ : nullptr; }
  const void* raw_data() const {
    return storage_ ? static_cast<const char*>(storage_->data) + offset_bytes_ : nullptr;
  }
  template <typename T> T* data() { return static_cast<T*>(raw_data()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw_data()); }

  // Element 0 converted to T (for scalars such as an If condition or a Loop count).
  template <typename T> T item() const;
  // All elements converted to int64 (for shape-like inputs: Reshape's shape, Slice's starts).
  std::vector<int64_t> to_int64_vector() const;

  Tensor contiguous() const;                   // *this if already contiguous, else a packed copy
  Tensor clone() const;                        // deep, contiguous copy
  Tensor reshaped(const Shape& shape) const;   // shares storage; requires contiguous and same numel
  std::string describe() const;                // "f32[2,3]"

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  Strides strides_;
  std::shared_ptr<Storage> storage_;
  size_t offset_bytes_ = 0;
};

template <typename T>
T Tensor::item() const {
  T out{};
  dispatch_dtype(dtype_, AllTypes{}, [&](auto tag) {
    using S = decltype(tag);
    using C = typename ComputeType<S>::type;
    out = static_cast<T>(static_cast<C>(*data<S>()));
  });
  return out;
}

}  // namespace dj
