// LinalgQuantized: the integer and quantized matrix products, MatMulInteger and
// QLinearMatMul, and the zero-point widening that ConvInteger / QLinearConv share.
//
// Operands (u8 or i8) are widened to i32 with their zero points subtracted, so the
// product is exact int32 arithmetic through numpy_matmul (LinalgBatchedMatMul.h);
// QLinearMatMul then requantizes: y = saturate(round_half_even(acc * sa*sb/sy) + zy),
// computed in float like ONNX Runtime.
#pragma once

#include "runtime/OpRegistry.h"

namespace dj {

// `q` (u8/i8) as i32 minus its zero point `zp` (nullptr: 0). `zp` is a scalar, or
// broadcasts against `q`; a 1-D `zp` on a 2-D+ operand is read per row when
// `one_dim_per_row` (A-side quantization), else per column (B-side / last dim).
Expected<Tensor> widen_minus_zero_point(const Tensor& q, const Tensor* zp, bool one_dim_per_row, const char* op);

// Rounds `v` half-to-even, adds `zero_point` and saturates to `dtype` (u8 or i8).
int32_t requantize(float v, int32_t zero_point, DType dtype);

Status matmul_integer_kernel(KernelContext& ctx);
Status matmul_integer_infer(ShapeContext& ctx);
Status qlinear_matmul_kernel(KernelContext& ctx);
Status qlinear_matmul_infer(ShapeContext& ctx);

}  // namespace dj
