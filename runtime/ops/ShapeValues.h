// ShapeValues: load-time knowledge of the *elements* of small integer tensors
// that hold dimensions (Shape's output and what is computed from it), and the
// symbolic arithmetic the shape functions need on them.
//
// Invariants: ValueInfo::sym_values is only set on 0-D/1-D integer values with at
// most kMaxSymValues elements, one SymExpr per element in row-major order. A
// constant tensor is the stronger fact: known_elements() prefers it. Every
// helper here is exact (never a guess): when a result cannot be expressed it
// returns nullopt and the caller leaves the shape unknown or uses fresh_dim().
// Dimensions are non-negative, which is the one fact the folding below uses.
#pragma once

#include <optional>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/SymExpr.h"

namespace dj {

constexpr size_t kMaxSymValues = 64;

// The elements of a 0-D/1-D integer value: its constant tensor if it has one,
// else its sym_values; nullopt if neither is known (or v is null/absent).
std::optional<std::vector<SymExpr>> known_elements(const ValueInfo* v);
// Same, but only when every element is a constant.
std::optional<std::vector<int64_t>> known_constant_elements(const ValueInfo* v);
// Records the elements on `out` when it is small enough; no-op for null.
void set_known_elements(ValueInfo* out, std::vector<SymExpr> values);

// The constant dims of a SymShape, nullopt if any dim is symbolic.
std::optional<Shape> static_dims(const std::optional<SymShape>& s);

// Product of dims[begin, end).
SymExpr sym_product(const SymShape& dims, size_t begin = 0, size_t end = SIZE_MAX);
// num / den where den is known to divide num (Reshape's -1, equal Split): common
// factors of the two products cancel ((b*s*64)/(b*s) -> 64), else floor_div.
SymExpr sym_divide_exact(const SymExpr& num, const SymExpr& den);
// True when e is provably >= 0 (constants >= 0, symbols — they are dims —, and
// sums/products/divisions/min/max of such).
bool sym_is_nonnegative(const SymExpr& e);
// min / max folded with the facts above (min(0, dim) = 0, max(dim, 0) = dim,
// max(x - min(c, x), 0) = max(x - c, 0)).
SymExpr sym_min(const SymExpr& a, const SymExpr& b);
SymExpr sym_max(const SymExpr& a, const SymExpr& b);

// Axis in [-rank, rank) to [0, rank), or InvalidArgument naming the op.
Expected<int64_t> normalize_axis(int64_t axis, int64_t rank, const char* op);
// Load-time version: nullopt when out of range.
std::optional<int64_t> normalize_axis_opt(int64_t axis, int64_t rank);

}  // namespace dj
