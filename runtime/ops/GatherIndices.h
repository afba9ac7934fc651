// GatherIndices: reading the index tensors of Gather*/Scatter* ops safely.
//
// Invariant: every index a kernel uses has passed through here (or the same
// check inline), so a bad index becomes an InvalidArgument naming it and the
// axis, never an out-of-bounds read or write. Negative indices count from the
// end of the axis, as ONNX specifies.
#pragma once

#include <vector>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

// The elements of `indices` as int64, negatives wrapped against `dim`; an
// InvalidArgument naming the first index outside [-dim, dim).
Expected<std::vector<int64_t>> read_indices(const Tensor& indices, int64_t dim, const char* op, int64_t axis);

// One index checked and wrapped; false when outside [-dim, dim).
inline bool wrap_index(int64_t& i, int64_t dim) {
  if (i < -dim || i >= dim) return false;
  if (i < 0) i += dim;
  return true;
}

Status index_out_of_range(const char* op, int64_t index, int64_t axis, int64_t dim);

}  // namespace dj
