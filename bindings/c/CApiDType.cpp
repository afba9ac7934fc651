// dj_dtype: sizes, names and the conversions to and from dj::DType.
#include "bindings/c/CApiDType.h"

namespace dj::capi {
namespace {
static_assert(DJ_F32 == static_cast<int>(DType::F32));
static_assert(DJ_F64 == static_cast<int>(DType::F64));
static_assert(DJ_F16 == static_cast<int>(DType::F16));
static_assert(DJ_BF16 == static_cast<int>(DType::BF16));
static_assert(DJ_I64 == static_cast<int>(DType::I64));
static_assert(DJ_I32 == static_cast<int>(DType::I32));
static_assert(DJ_I16 == static_cast<int>(DType::I16));
static_assert(DJ_I8 == static_cast<int>(DType::I8));
static_assert(DJ_U64 == static_cast<int>(DType::U64));
static_assert(DJ_U32 == static_cast<int>(DType::U32));
static_assert(DJ_U16 == static_cast<int>(DType::U16));
static_assert(DJ_U8 == static_cast<int>(DType::U8));
static_assert(DJ_BOOL == static_cast<int>(DType::Bool));
}  // namespace

std::optional<DType> dtype_from_c(dj_dtype dtype) noexcept {
  if (dtype < DJ_F32 || dtype > DJ_BOOL) return std::nullopt;
  return static_cast<DType>(dtype);
}

dj_dtype dtype_to_c(DType dtype) noexcept { return static_cast<dj_dtype>(static_cast<int>(dtype)); }

}  // namespace dj::capi

extern "C" {

size_t dj_dtype_size(dj_dtype dtype) noexcept {
  auto t = dj::capi::dtype_from_c(dtype);
  return t ? dj::dtype_size(*t) : 0;
}

const char* dj_dtype_name(dj_dtype dtype) noexcept {
  auto t = dj::capi::dtype_from_c(dtype);
  return t ? dj::dtype_name(*t) : "unknown";
}

}  // extern "C"
