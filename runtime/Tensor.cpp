// Tensor construction, copies and views.
#include "runtime/Tensor.h"

#include <cstring>
#include <sstream>

#include "runtime/Allocator.h"

namespace dj {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  os << "]";
  return os.str();
}

Strides contiguous_strides(const Shape& shape) {
  Strides s(shape.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

Storage::~Storage() {
  if (owned) {
    CpuAllocator::release(data, bytes);
  } else if (on_release) {
    on_release();
  }
}

Expected<Tensor> Tensor::try_empty(DType dtype, const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) return make_error(StatusCode::InvalidArgument, "negative dimension in shape ", shape_to_string(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  auto storage = std::make_shared<Storage>();
  storage->data = CpuAllocator::allocate(bytes);
  if (!storage->data)
    return make_error(StatusCode::OutOfMemory, "cannot allocate ", bytes, " bytes for ", dtype_name(dtype),
                      shape_to_string(shape));
  storage->bytes = bytes;
  storage->owned = true;
  t.storage_ = std::move(storage);
  return t;
}

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  auto t = try_empty(dtype, shape);
  if (!t.ok()) throw AllocationError(t.status().message());
  return std::move(t).value();
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  Tensor t = empty(dtype, shape);
  std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Tensor Tensor::borrow(void* data, DType dtype, const Shape& shape, const Strides& strides,
                      std::function<void()> on_release) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.strides_ = strides.empty() ? contiguous_strides(shape) : strides;
  auto storage = std::make_shared<Storage>();
  storage->data = data;
  storage->owned = false;
  storage->on_release = std::move(on_release);
  t.storage_ = std::move(storage);
  return t;
}

Tensor Tensor::on_device(void* device_address, DType dtype, const Shape& shape, DeviceKind device,
                         std::function<void()> release,
                         std::function<Status(size_t offset, void* host, size_t bytes)> copy_to_host) {
  Tensor t = borrow(device_address, dtype, shape, {}, std::move(release));
  t.storage_->device = device;
  t.storage_->bytes = t.nbytes();
  t.storage_->copy_to_host = std::move(copy_to_host);
  return t;
}

Expected<Tensor> Tensor::to_host() const {
  if (on_host()) return *this;
  if (!storage_->copy_to_host)
    return make_error(StatusCode::Internal, "a ", device_kind_name(device()), " tensor has no way back to the host");
  DJ_ASSIGN_OR_RETURN(Tensor host, try_empty(dtype_, shape_));
  DJ_RETURN_IF_ERROR(storage_->copy_to_host(offset_bytes_, host.raw_data(), host.nbytes())
                         .with_context(std::string("copying ") + describe() + " from the " +
                                       device_kind_name(device()) + ": "));
  return host;
}

bool Tensor::is_contiguous() const {
  int64_t acc = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != acc) return false;
    acc *= shape_[i];
  }
  return true;
}

Tensor Tensor::contiguous() const {
  if (!defined() || is_contiguous()) return *this;
  Tensor out = empty(dtype_, shape_);
  const size_t es = dtype_size(dtype_);
  const char* src = static_cast<const char*>(raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const int64_t n = numel();
  std::vector<int64_t> idx(shape_.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * strides_[d];
    std::memcpy(dst + i * es, src + off * static_cast<int64_t>(es), es);
    for (int d = rank() - 1; d >= 0; --d) {
      if (++idx[d] < shape_[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

Tensor Tensor::clone() const {
  if (!defined()) return *this;
  if (!on_host()) {  // a deep copy is a host copy
    auto host = to_host();
    if (!host.ok()) throw AllocationError(host.status().message());
    return std::move(host).value();
  }
  if (!is_contiguous()) return contiguous();
  Tensor out = empty(dtype_, shape_);
  std::memcpy(out.raw_data(), raw_data(), nbytes());
  return out;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  Tensor t = is_contiguous() ? *this : contiguous();
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  Tensor c = contiguous();
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  dispatch_dtype(dtype_, AllTypes{}, [&](auto tag) {
    using S = decltype(tag);
    using C = typename ComputeType<S>::type;
    const S* d = c.data<S>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(static_cast<C>(d[i]));
  });
  return out;
}

std::string Tensor::describe() const {
  if (!defined()) return "<none>";
  return std::string(dtype_name(dtype_)) + shape_to_string(shape_);
}

}  // namespace dj
