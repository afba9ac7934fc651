// Tensors through the C API: create (zeroed or copied), borrow, free, accessors.
//
// Every shape is checked before any memory is touched: a NULL shape with rank > 0,
// a negative dim, or a size whose byte count overflows is DJ_ERR_INVALID_ARGUMENT.
#include <cstring>
#include <limits>

#include "bindings/c/CApiDType.h"
#include "bindings/c/CApiHandles.h"
#include "bindings/c/CApiStatus.h"

namespace dj::capi {
namespace {

struct CheckedShape {
  DType dtype = DType::F32;
  Shape shape;
  size_t bytes = 0;
};

Status check_shape(const char* function, dj_dtype c_dtype, const int64_t* shape, size_t rank, CheckedShape& out) {
  std::optional<DType> dtype = dtype_from_c(c_dtype);
  if (!dtype) return make_error(StatusCode::InvalidArgument, function, ": ", static_cast<int>(c_dtype), " is not a dj_dtype");
  if (rank > 0 && !shape) return make_error(StatusCode::InvalidArgument, function, ": shape is NULL but rank is ", rank);
  out.dtype = *dtype;
  out.shape.assign(shape, shape + rank);
  int64_t numel = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return make_error(StatusCode::InvalidArgument, function, ": dim ", d, " of shape ", shape_to_string(out.shape),
                        " is negative");
    if (__builtin_mul_overflow(numel, shape[d], &numel))
      return make_error(StatusCode::InvalidArgument, function, ": shape ", shape_to_string(out.shape),
                        " has too many elements");
  }
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), dtype_size(*dtype), &bytes) ||
      bytes > static_cast<size_t>(std::numeric_limits<int64_t>::max()))
    return make_error(StatusCode::InvalidArgument, function, ": ", dtype_name(*dtype), shape_to_string(out.shape),
                      " is too large");
  out.bytes = bytes;
  return {};
}

// Allocates an owned tensor of the checked shape; *out is set only on success.
Status create_owned(const CheckedShape& s, const void* fill_from, dj_tensor** out) {
  Expected<Tensor> t = Tensor::try_empty(s.dtype, s.shape);
  if (!t.ok()) return t.status();
  if (s.bytes > 0) {
    if (fill_from) std::memcpy(t->raw_data(), fill_from, s.bytes);
    else std::memset(t->raw_data(), 0, s.bytes);
  }
  *out = new dj_tensor{std::move(t).value()};
  return {};
}

}  // namespace
}  // namespace dj::capi

using namespace dj::capi;

extern "C" {

dj_status dj_tensor_create(dj_dtype dtype, const int64_t* shape, size_t rank, dj_tensor** out) noexcept {
  if (out) *out = nullptr;
  if (!out) return null_argument("dj_tensor_create", "out");
  return guarded("dj_tensor_create", [&]() -> dj::Status {
    CheckedShape s;
    DJ_RETURN_IF_ERROR(check_shape("dj_tensor_create", dtype, shape, rank, s));
    return create_owned(s, nullptr, out);
  });
}

dj_status dj_tensor_create_copy(dj_dtype dtype, const int64_t* shape, size_t rank, const void* data,
                                dj_tensor** out) noexcept {
  if (out) *out = nullptr;
  if (!out) return null_argument("dj_tensor_create_copy", "out");
  return guarded("dj_tensor_create_copy", [&]() -> dj::Status {
    CheckedShape s;
    DJ_RETURN_IF_ERROR(check_shape("dj_tensor_create_copy", dtype, shape, rank, s));
    if (!data && s.bytes > 0)
      return dj::make_error(dj::StatusCode::InvalidArgument, "dj_tensor_create_copy: data is NULL for ",
                            dj::dtype_name(s.dtype), dj::shape_to_string(s.shape));
    return create_owned(s, data, out);
  });
}

dj_status dj_tensor_borrow(dj_dtype dtype, const int64_t* shape, size_t rank, void* data, const int64_t* strides,
                           dj_tensor** out) noexcept {
  if (out) *out = nullptr;
  if (!out) return null_argument("dj_tensor_borrow", "out");
  return guarded("dj_tensor_borrow", [&]() -> dj::Status {
    CheckedShape s;
    DJ_RETURN_IF_ERROR(check_shape("dj_tensor_borrow", dtype, shape, rank, s));
    if (!data && s.bytes > 0)
      return dj::make_error(dj::StatusCode::InvalidArgument, "dj_tensor_borrow: data is NULL for ",
                            dj::dtype_name(s.dtype), dj::shape_to_string(s.shape));
    dj::Strides st;
    if (strides && rank > 0) st.assign(strides, strides + rank);
    *out = new dj_tensor{dj::Tensor::borrow(data, s.dtype, s.shape, st)};
    return {};
  });
}

void dj_tensor_free(dj_tensor* tensor) noexcept {
  try {
    delete tensor;
  } catch (...) {
    // A borrowed tensor's release hook is empty here; an owned one only frees memory.
  }
}

dj_dtype dj_tensor_dtype(const dj_tensor* t) noexcept {
  return t ? dtype_to_c(t->tensor.dtype()) : DJ_DTYPE_UNKNOWN;
}
size_t dj_tensor_rank(const dj_tensor* t) noexcept { return t ? static_cast<size_t>(t->tensor.rank()) : 0; }
const int64_t* dj_tensor_shape(const dj_tensor* t) noexcept {
  return t && t->tensor.rank() > 0 ? t->tensor.shape().data() : nullptr;
}
const int64_t* dj_tensor_strides(const dj_tensor* t) noexcept {
  return t && t->tensor.rank() > 0 ? t->tensor.strides().data() : nullptr;
}
int64_t dj_tensor_numel(const dj_tensor* t) noexcept { return t ? t->tensor.numel() : 0; }
size_t dj_tensor_nbytes(const dj_tensor* t) noexcept { return t ? t->tensor.nbytes() : 0; }
int dj_tensor_is_contiguous(const dj_tensor* t) noexcept { return t && t->tensor.is_contiguous() ? 1 : 0; }
void* dj_tensor_data(dj_tensor* t) noexcept { return t ? t->tensor.raw_data() : nullptr; }
const void* dj_tensor_const_data(const dj_tensor* t) noexcept { return t ? t->tensor.raw_data() : nullptr; }

}  // extern "C"
