// ElementwiseSchedule: the schedule for a pure, elementwise output Func of any rank.
//
// Contract: `out` has only a pure definition (its producers are inlined into it, as
// for a fused elementwise chain). Dimension 0 (Halide order: the innermost,
// contiguous one) is vectorized to the host's SIMD width; the other dimensions are
// fused and run in parallel (TBB, through OrcSession) in tasks of ~16K elements;
// rank 1 is split into such chunks. `extents` (Halide order, empty if unknown) lets
// the schedule avoid guards on full vectors and skip threads for small tensors;
// with unknown extents it is still correct for any size (GuardWithIf tails).
#pragma once

#include <cstdint>
#include <vector>

#include "Halide.h"

namespace dj::jit {

void schedule_elementwise(Halide::Func out, const std::vector<int64_t>& extents = {});

}  // namespace dj::jit
