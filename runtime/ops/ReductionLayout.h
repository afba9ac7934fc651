// ReductionLayout: which elements of a contiguous tensor a reduction over a set of
// axes combines, and the cheapest way to walk them; plus the axis normalization
// and reduced-shape rules every reduction/normalization op shares.
//
// Invariants: outputs are numbered in row-major order of the kept dimensions (the
// order of a keepdims output). When the reduced dimensions form one block after
// dropping size-1 dims and merging neighbours, the layout is `blocked`: the input
// is [outer, reduce, inner] and output k = o*inner + i reads x[(o*reduce + r)*inner + i].
// Otherwise output k reads x[kept_offsets[k] + reduce_offsets[r]].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/Status.h"
#include "runtime/SymExpr.h"
#include "runtime/Tensor.h"

namespace dj {

// axis in [-rank, rank) -> [0, rank); otherwise InvalidArgument naming the op and axis.
Expected<int> normalize_axis(int64_t axis, int rank, const std::string& op);
// One flag per dim of a rank-`rank` tensor: true where the dim is in `axes`.
// Out-of-range or repeated axes are an InvalidArgument naming the axis.
Expected<std::vector<bool>> reduced_axis_flags(const std::vector<int64_t>& axes, int rank,
                                               const std::string& op);

struct ReduceLayout {
  bool blocked = true;
  int64_t outer = 1;
  int64_t reduce = 1;
  int64_t inner = 1;
  std::vector<int64_t> kept_offsets;    // only when !blocked: one per output
  std::vector<int64_t> reduce_offsets;  // only when !blocked: one per reduced element

  int64_t num_outputs() const { return blocked ? outer * inner : static_cast<int64_t>(kept_offsets.size()); }
  int64_t reduce_count() const { return blocked ? reduce : static_cast<int64_t>(reduce_offsets.size()); }
};

ReduceLayout plan_reduce_layout(const Shape& shape, const std::vector<bool>& reduced);
// The [outer, reduce, inner] view of one axis (always blocked).
ReduceLayout single_axis_layout(const Shape& shape, int axis);

// Output shape: reduced dims become 1 (keepdims) or disappear.
Shape reduced_shape(const Shape& shape, const std::vector<bool>& reduced, bool keepdims);
SymShape reduced_sym_shape(const SymShape& shape, const std::vector<bool>& reduced, bool keepdims);

// Product of dims [begin, end) of a shape.
int64_t dims_product(const Shape& shape, int begin, int end);

}  // namespace dj
