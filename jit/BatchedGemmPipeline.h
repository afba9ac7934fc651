// BatchedGemmPipeline: f32 batched matrix multiply as a scheduled Halide Func —
// many small products at once, such as attention's Q·Kᵀ and P·V.
//
//   out(j, i, b) = sum_k a(k, i, b) * b(j, k, b)
//
// Halide order: j the output column (contiguous), i the row, b the flattened batch.
// The schedule parallelizes over (row tiles x batch) and vectorizes columns, with
// each row's accumulators kept in registers over the k loop; every loop is
// guarded, so it is correct for any extents. With `extents` (N, M, batch, K known at
// compile time) the tile and task sizes follow them; without, it is the
// shape-generic kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "Halide.h"

namespace dj::jit {

// `a`: a(k, i, b); `b_op`: b(j, k, b); `k_extent`: K. `extents`: {N, M, batch, K} or empty.
Halide::Func build_batched_gemm(Halide::Func a, Halide::Func b_op, Halide::Expr k_extent,
                                const std::vector<int64_t>& extents);

}  // namespace dj::jit
