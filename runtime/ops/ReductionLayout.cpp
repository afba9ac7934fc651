// Axis normalization and the blocked / general reduction layouts.
#include "runtime/ops/ReductionLayout.h"

namespace dj {

Expected<int> normalize_axis(int64_t axis, int rank, const std::string& op) {
  if (axis < -rank || axis >= rank)
    return make_error(StatusCode::InvalidArgument, op, ": axis ", axis, " out of range for a rank-", rank,
                      " input (valid: [", -rank, ", ", rank - 1, "])");
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Expected<std::vector<bool>> reduced_axis_flags(const std::vector<int64_t>& axes, int rank,
                                               const std::string& op) {
  std::vector<bool> flags(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(a, rank, op));
    if (flags[static_cast<size_t>(axis)])
      return make_error(StatusCode::InvalidArgument, op, ": axis ", a, " is repeated in axes");
    flags[static_cast<size_t>(axis)] = true;
  }
  return flags;
}

int64_t dims_product(const Shape& shape, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= shape[static_cast<size_t>(i)];
  return p;
}

namespace {

struct DimGroup {
  int64_t size;
  int64_t stride;  // elements between consecutive indices of this group
  bool reduced;
};

// Odometer over `groups`, writing base + sum(index * stride) for every position.
void enumerate_offsets(const std::vector<DimGroup>& groups, std::vector<int64_t>& out) {
  int64_t total = 1;
  for (const auto& g : groups) total *= g.size;
  out.assign(static_cast<size_t>(total), 0);
  if (total == 0) return;
  std::vector<int64_t> index(groups.size(), 0);
  int64_t offset = 0;
  for (int64_t k = 0; k < total; ++k) {
    out[static_cast<size_t>(k)] = offset;
    for (int d = static_cast<int>(groups.size()) - 1; d >= 0; --d) {
      auto& g = groups[static_cast<size_t>(d)];
      if (++index[static_cast<size_t>(d)] < g.size) {
        offset += g.stride;
        break;
      }
      offset -= (g.size - 1) * g.stride;
      index[static_cast<size_t>(d)] = 0;
    }
  }
}

}  // namespace

ReduceLayout plan_reduce_layout(const Shape& shape, const std::vector<bool>& reduced) {
  // Drop size-1 dims (they change nothing) and merge neighbours with the same flag.
  std::vector<DimGroup> groups;
  Strides strides = contiguous_strides(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!groups.empty() && groups.back().reduced == reduced[d]) {
      groups.back().size *= shape[d];
      groups.back().stride = strides[d];
    } else {
      groups.push_back({shape[d], strides[d], reduced[d]});
    }
  }
  ReduceLayout layout;
  size_t g = 0;
  if (g < groups.size() && !groups[g].reduced) layout.outer = groups[g++].size;
  if (g < groups.size() && groups[g].reduced) layout.reduce = groups[g++].size;
  if (g < groups.size() && !groups[g].reduced) layout.inner = groups[g++].size;
  if (g == groups.size()) return layout;

  layout = ReduceLayout{};
  layout.blocked = false;
  std::vector<DimGroup> kept, red;
  for (const auto& grp : groups) (grp.reduced ? red : kept).push_back(grp);
  enumerate_offsets(kept, layout.kept_offsets);
  enumerate_offsets(red, layout.reduce_offsets);
  return layout;
}

ReduceLayout single_axis_layout(const Shape& shape, int axis) {
  ReduceLayout layout;
  int rank = static_cast<int>(shape.size());
  layout.outer = dims_product(shape, 0, axis);
  layout.reduce = shape[static_cast<size_t>(axis)];
  layout.inner = dims_product(shape, axis + 1, rank);
  return layout;
}

Shape reduced_shape(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

SymShape reduced_sym_shape(const SymShape& shape, const std::vector<bool>& reduced, bool keepdims) {
  SymShape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) out.push_back(shape[d]);
    else if (keepdims) out.push_back(SymExpr(1));
  }
  return out;
}

}  // namespace dj
