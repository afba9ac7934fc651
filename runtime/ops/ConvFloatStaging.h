// ConvFloatStaging: f16/bf16 tensors staged through f32 for the conv family, whose
// fast kernels are f32-only. Widening is exact; results round once, on narrowing.
#pragma once

#include <vector>

#include "runtime/Tensor.h"

namespace dj {

// A contiguous f32 copy of `t` (f16 or bf16); `t` itself if it is already f32.
inline Tensor widen_to_f32(const Tensor& t) {
  if (!t.defined() || t.dtype() == DType::F32) return t;
  Tensor out = Tensor::empty(DType::F32, t.shape());
  float* d = out.data<float>();
  const int64_t n = t.numel();
  if (t.dtype() == DType::F16) {
    const half* s = t.data<half>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
  } else {
    const bfloat16* s = t.data<bfloat16>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
  }
  return out;
}

// `f` (f32) rounded to `dtype` (f16, bf16 or f32).
inline Tensor narrow_from_f32(const Tensor& f, DType dtype) {
  if (dtype == DType::F32) return f;
  Tensor out = Tensor::empty(dtype, f.shape());
  const float* s = f.data<float>();
  const int64_t n = f.numel();
  if (dtype == DType::F16) {
    half* d = out.data<half>();
    for (int64_t i = 0; i < n; ++i) d[i] = half(s[i]);
  } else {
    bfloat16* d = out.data<bfloat16>();
    for (int64_t i = 0; i < n; ++i) d[i] = bfloat16(s[i]);
  }
  return out;
}

}  // namespace dj
