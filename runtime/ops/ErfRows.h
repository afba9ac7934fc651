// ErfRows: erf over a contiguous float array, vectorized. std::erf is a libm call
// per element (15% of a BERT encoder's interpreted time went there); erf_f32 is a
// branch-free rational approximation the compiler vectorizes. The loop is built for
// baseline x86-64 (SSE2) and again for AVX2+FMA, and the widest one the running CPU
// supports is chosen once per process (as ReductionExpRows does for exp).
//
// erf_f32: p(x)/q(x) on x clamped to [-4, 4] (erf(+-4) rounds to +-1 in float), the
// minimax coefficients of Eigen's generic_fast_erf_float, the same as the JIT's
// jit/FastMath erf_f32, so interpreted and compiled GELUs agree to an ulp or two.
// Within 4e-7 of erf over the reals; NaN stays NaN, +-inf gives +-1.
#pragma once

#include <cstdint>

#include "runtime/ops/ReductionVectorMath.h"

namespace dj {

[[gnu::always_inline]] inline float erf_f32(float x) {
  float c = select_f32(x > 4.0f, 4.0f, x);  // selects, not min/max: see select_float
  c = select_f32(c < -4.0f, -4.0f, c);
  const float x2 = c * c;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return select_f32(x != x, x, (c * p) / q);
}

struct ErfRowKernels {
  const char* name = "";
  // y[i] = erf_f32(x[i]) for i < n; x and y do not overlap.
  void (*erf)(const float* x, float* y, int64_t n) = nullptr;
};

const ErfRowKernels& erf_row_kernels();
// The individual tables (the AVX2 one is nullptr where it cannot run); for tests.
const ErfRowKernels* erf_row_kernels_generic();
const ErfRowKernels* erf_row_kernels_avx2();

}  // namespace dj
