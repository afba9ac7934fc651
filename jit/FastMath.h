// FastMath: vectorizable f32 tanh, sigmoid, erf and GELU as Halide Exprs.
//
// Why: Halide 14 lowers f32 tanh (and exp, erf) to one scalar libm call per element,
// which runs at ~1% of memory bandwidth. These are branch-free rational polynomials
// or built on exp_f32 (a range-reduced polynomial), so they vectorize. Inputs are cast to Float(32).
// Accuracy (tests/jit/FastMathTest.cpp measures it against libm over [-12, 12]):
// see the comment on each function; all are abs-error bounds in float.
#pragma once

#include "Halide.h"

namespace dj::jit {

// exp(x): range reduction + degree-7 polynomial, input clamped to [-87.3, 88.3] (below,
// results are ~1e-38 instead of 0; above, ~2e38 instead of inf). ~2 ulp.
Halide::Expr exp_f32(Halide::Expr x);
// tanh: rational 13/6 polynomial, clamped at |x| = 7.905 (tanh = 1 - 1e-7 there). ~2e-7.
Halide::Expr tanh_f32(Halide::Expr x);
// 1 / (1 + exp(-x)) on exp_f32. ~2e-7.
Halide::Expr sigmoid_f32(Halide::Expr x);
// erf: rational polynomial x*P(x^2)/Q(x^2), clamped at |x| = 4. ~1e-6.
Halide::Expr erf_f32(Halide::Expr x);
// GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)) (ONNX Gelu, approximate="none").
Halide::Expr gelu_f32(Halide::Expr x);
// GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh").
Halide::Expr gelu_tanh_f32(Halide::Expr x);

}  // namespace dj::jit
