// DType: the element types a Tensor can hold, their sizes and names, and the
// 16-bit float storage types (f16, bf16) with their conversions to float.
//
// Kernels compute f16/bf16 in float and round on store. dispatch_dtype() turns a
// runtime DType into a compile-time C++ type for a generic lambda.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace dj {

enum class DType : uint8_t {
  F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, Bool,
};

size_t dtype_size(DType t);
const char* dtype_name(DType t);                       // "f32", "i64", "bool", ...
std::optional<DType> dtype_from_name(std::string_view name);  // accepts "f32", "float32", "float", "int64", ...
bool dtype_is_float(DType t);                          // f32 f64 f16 bf16
bool dtype_is_signed_int(DType t);
bool dtype_is_unsigned_int(DType t);

// IEEE binary16, stored as bits.
struct half {
  uint16_t bits = 0;
  half() = default;
  explicit half(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

// bfloat16: the top half of an IEEE float, rounded to nearest even.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN stays NaN
      bits = static_cast<uint16_t>((u >> 16) | 0x40);
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<half> { static constexpr DType value = DType::F16; };
template <> struct DTypeOf<bfloat16> { static constexpr DType value = DType::BF16; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::I16; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::I8; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::U64; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::U32; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::U16; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };

// The type a kernel computes in for storage type T: float for f16/bf16, T otherwise.
template <typename T> struct ComputeType { using type = T; };
template <> struct ComputeType<half> { using type = float; };
template <> struct ComputeType<bfloat16> { using type = float; };

// Calls fn(T{}) with the C++ type of `t`. Returns false (and does not call fn)
// for a dtype outside the set the caller asked for.
//   bool ok = dispatch_dtype(t, AllTypes{}, [&](auto tag) { using T = decltype(tag); ... });
struct AllTypes {};      // every DType
struct NumericTypes {};  // every DType except Bool
struct FloatTypes {};    // f32 f64 f16 bf16

template <typename Set, typename Fn>
bool dispatch_dtype(DType t, Set, Fn&& fn) {
  constexpr bool numeric = !std::is_same_v<Set, FloatTypes>;
  constexpr bool with_bool = std::is_same_v<Set, AllTypes>;
  switch (t) {
    case DType::F32: fn(float{}); return true;
    case DType::F64: fn(double{}); return true;
    case DType::F16: fn(half{}); return true;
    case DType::BF16: fn(bfloat16{}); return true;
    default: break;
  }
  if constexpr (numeric) {
    switch (t) {
      case DType::I64: fn(int64_t{}); return true;
      case DType::I32: fn(int32_t{}); return true;
      case DType::I16: fn(int16_t{}); return true;
      case DType::I8: fn(int8_t{}); return true;
      case DType::U64: fn(uint64_t{}); return true;
      case DType::U32: fn(uint32_t{}); return true;
      case DType::U16: fn(uint16_t{}); return true;
      case DType::U8: fn(uint8_t{}); return true;
      default: break;
    }
  }
  if constexpr (with_bool) {
    if (t == DType::Bool) { fn(bool{}); return true; }
  }
  return false;
}

}  // namespace dj
