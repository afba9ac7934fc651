// Conversions between the C API's dj_dtype and dj::DType.
//
// The enum values are equal (static_asserts in CApiDType.cpp); the conversion
// from C still checks the range, since a C caller can pass any integer.
#pragma once

#include <optional>

#include "bindings/c/dynajit.h"
#include "runtime/DType.h"

namespace dj::capi {

std::optional<DType> dtype_from_c(dj_dtype dtype) noexcept;
dj_dtype dtype_to_c(DType dtype) noexcept;

}  // namespace dj::capi
