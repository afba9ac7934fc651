// SoftmaxPipeline: softmax over Halide dimension 0 (ONNX's last axis), scheduled.
//
//   out(x, rows...) = exp(in(x, rows) - max_x in) / sum_x exp(in(x, rows) - max_x in)
//
// Schedule: the row dimensions are fused and run in parallel; per row, the max and the
// sum are vectorized reductions (rfactor over SIMD lanes) and exp is exp_f32 (FastMath.h),
// so nothing runs one scalar libm call per element. `n` is the row length (an Expr:
// a constant or the input's dim(0).extent()); `extents` (Halide order) may be empty.
// Correct for any extents (tails are guarded when n is not known to fill a vector).
#pragma once

#include <cstdint>
#include <vector>

#include "Halide.h"

namespace dj::jit {

Halide::Func build_softmax_last_axis(Halide::Func in, Halide::Expr n, const std::vector<int64_t>& extents = {});

}  // namespace dj::jit
