// ElementwiseCast: converting one element, or a whole tensor, between any two
// DTypes — what Cast and CastLike run, and what mixed-type kernels (Pow with an
// exponent of another dtype) use to bring an operand to a common type.
//
// Rules (ONNX Cast): to bool, any non-zero value (NaN included) is true; from
// bool, 1 or 0. Float to float rounds to nearest even (f16/bf16 through float).
// Float to integer truncates toward zero as C++ static_cast does for values in
// range; out-of-range values, which C++ leaves undefined, are made defined: NaN
// gives 0, values beyond 64 bits saturate, and narrower integer types then wrap
// modulo 2^bits (what numpy does on x86 for values within int64). Integer to
// integer wraps modulo 2^bits.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/DType.h"
#include "runtime/Tensor.h"
#include "runtime/ops/ElementwiseLoops.h"

namespace dj::elementwise {

template <typename T>
constexpr bool is_float_storage_v = std::is_floating_point_v<T> || std::is_same_v<T, half> ||
                                    std::is_same_v<T, bfloat16>;

template <typename I>
inline I float_to_int(double x) {
  constexpr double k2p63 = 9223372036854775808.0;
  if (x != x) return I(0);
  if constexpr (std::is_same_v<I, uint64_t>) {
    if (x >= 2.0 * k2p63) return std::numeric_limits<uint64_t>::max();
    if (x >= 0) return static_cast<uint64_t>(x);
    if (x <= -k2p63) return uint64_t{1} << 63;
    return static_cast<uint64_t>(static_cast<int64_t>(x));
  } else {
    int64_t v;
    if (x >= k2p63) v = std::numeric_limits<int64_t>::max();
    else if (x <= -k2p63) v = std::numeric_limits<int64_t>::min();
    else v = static_cast<int64_t>(x);
    return static_cast<I>(v);
  }
}

template <typename To, typename From>
inline To convert_value(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return load(v) != compute_t<From>(0);
  } else if constexpr (std::is_same_v<From, bool>) {
    return store<To>(compute_t<To>(v ? 1 : 0));
  } else if constexpr (is_float_storage_v<From> && std::is_integral_v<To>) {
    return float_to_int<To>(static_cast<double>(load(v)));
  } else if constexpr (std::is_same_v<To, half> || std::is_same_v<To, bfloat16>) {
    return To(static_cast<float>(load(v)));
  } else {
    return static_cast<To>(load(v));
  }
}

// A fresh contiguous tensor of dtype `to` holding x's values converted; a copy
// when x already has that dtype. Throws only AllocationError.
Tensor cast_tensor(const Tensor& x, DType to);

}  // namespace dj::elementwise
