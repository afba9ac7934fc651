// RowReduction: the schedule shared by row reductions (softmax, layer norm):
// a reduction f(rows) over an RDom along dimension 0, split into `lanes` partial
// results (rfactor) so the inner loop is a vector op, then folded.
#pragma once

#include <Halide.h>

namespace dj::jit {

void vectorize_row_reduction(Halide::Func f, const Halide::RDom& r, int lanes);

}  // namespace dj::jit
