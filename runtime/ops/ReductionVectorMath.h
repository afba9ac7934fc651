// ReductionVectorMath: an exp() for float that the compiler can vectorize, used by
// the hot loops of Softmax, LogSoftmax and ReduceLogSumExp; the mask select it is
// built from; and the 16-byte vector types of the explicit max/min loops.
//
// std::exp is a library call that blocks auto-vectorization (we build without
// -ffast-math), so softmax over a row would run one exp at a time. exp_f32 is
// branch-free (selects, not branches) and uses only arithmetic and bit casts, so a
// loop calling it vectorizes with plain SSE2. Accuracy: within a few ulp of std::exp on
// [-86, 88.72]; results below e^-86 (~4e-38) flush to 0, above 88.72 give +inf,
// NaN stays NaN. exp_any() picks exp_f32 for float and std::exp otherwise.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace dj {

// cond ? a : b written with integer masks: under the default -ftrapping-math GCC
// will not if-convert a float ?: whose arms do arithmetic (or whose condition is
// a NaN test), which stops vectorization. For float and double.
template <typename F>
[[gnu::always_inline]] inline F select_float(bool cond, F a, F b) {
  using I = std::conditional_t<sizeof(F) == 4, int32_t, int64_t>;
  const I mask = -static_cast<I>(cond);
  return std::bit_cast<F>((std::bit_cast<I>(a) & mask) | (std::bit_cast<I>(b) & ~mask));
}
[[gnu::always_inline]] inline float select_f32(bool cond, float a, float b) { return select_float<float>(cond, a, b); }

[[gnu::always_inline]] inline float exp_f32(float x) {
  // e^x = 2^n * e^r with n = round(x / ln2), |r| <= ln2/2 (Cephes expf).
  const float hi = 88.72283f;  // e^hi is just below FLT_MAX
  const float lo = -86.0f;     // keeps 2^(n-1) a normal float
  // Clamp with masks too: a min/max clamp lets GCC jump-thread the clamped
  // constants through the rest of the body, which again blocks vectorization.
  // NaN clamps to lo too, which keeps the float->int conversion below defined.
  float c = select_f32(!(x >= lo), lo, x);
  c = select_f32(c > hi, hi, c);
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer in float
  // arithmetic without a call to rint/floor (which SSE2 cannot vectorize).
  const float shifter = 12582912.0f;
  const float n = (c * 1.44269504088896341f + shifter) - shifter;
  const float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = (p * r) * r + r + 1.0f;
  // 2^n as 2^(n-1) * 2 so that n = 128 (x near hi) does not hit the inf exponent.
  const int32_t bits = (static_cast<int32_t>(n) + 126) << 23;
  const float y = (er * std::bit_cast<float>(bits)) * 2.0f;
  const float clamped = select_f32(x > hi, std::numeric_limits<float>::infinity(), select_f32(x < lo, 0.0f, y));
  return select_f32(x != x, x, clamped);
}

// 16-byte vectors (SSE2 baseline; GCC/Clang vector extensions) for loops the
// auto-vectorizer will not take on its own.
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));

template <typename A>
inline A exp_any(A x) {
  if constexpr (std::is_same_v<A, float>) return exp_f32(x);
  else return static_cast<A>(std::exp(x));
}

}  // namespace dj
