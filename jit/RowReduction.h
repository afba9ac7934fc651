// RowReduction: the schedule shared by row reductions (softmax, layer norm):
// a reduction f(rows) over an RDom along dimension 0, split into `lanes` x
// `accumulators` partial results (rfactor) so the inner loop is `accumulators`
// independent vector ops, then folded to `lanes` with vector ops and to one.
// One accumulator would chain every step on the latency of the previous one
// (vaddps: 3-4 cycles), which bounded Softmax and LayerNorm on long rows.
#pragma once

#include <Halide.h>

namespace dj::jit {

void vectorize_row_reduction(Halide::Func f, const Halide::RDom& r, int lanes, int accumulators);

// How many accumulators suit rows of `n` elements (0: not known when compiling):
// 4 when a row holds at least two steps of 4 x `lanes`, else 1, since the guarded
// tail of a wider step would cover all of a short row (Softmax over 33 elements
// measured 2x slower with 4).
int row_reduction_accumulators(int64_t n, int lanes);

}  // namespace dj::jit
