// FusionPlan: how one region runs for one shape signature — its ops cut into
// fusion groups, each either compiled (one Halide kernel) or run by the
// reference kernel — and the concrete shape of every value in it.
//
// Groups (in the region's node order, so running them in order is a valid
// schedule):
//   Elementwise  a chain of f32 elementwise ops (unary, binary with NumPy
//                broadcasting) whose intermediate values are read only inside the
//                chain: one kernel, one output, nothing materialized in between;
//   Gemm         MatMul of A[..., M, K] by a 2-D B[K, N], with a following bias Add
//                (a [N] vector) and Relu folded into its epilogue;
//   Softmax      Softmax over the last axis (f32);
//   Interpreted  any other op: the reference kernel, as the interpreter runs it.
// Concrete shapes come from the signature: the region's input dims bind the
// symbols of their declared shapes, and every produced value's symbolic shape is
// evaluated under those bindings. A region whose shapes are not closed over its
// inputs (Region::shapes_closed) cannot be planned.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Region.h"
#include "runtime/ShapeSignature.h"
#include "runtime/Status.h"

namespace dj::specializer {

enum class GroupKind { Elementwise, Gemm, Softmax, Interpreted };
const char* group_kind_name(GroupKind kind);

struct FusionGroup {
  GroupKind kind = GroupKind::Interpreted;
  std::vector<int32_t> nodes;   // graph node indices, in order
  std::vector<ValueId> inputs;  // values read from outside the group (constants included), first-use order
  ValueId output = kNoValue;    // kernel groups: the one value they produce
  // Gemm: the operands (A may have leading batch dims, flattened into M).
  ValueId gemm_a = kNoValue, gemm_b = kNoValue, gemm_bias = kNoValue;
  bool gemm_relu = false;
  int64_t m = 0, n = 0, k = 0;  // Gemm: rows of the flattened A, N, K; Softmax: rows, row length
};

struct FusionPlan {
  const Graph* graph = nullptr;
  const Region* region = nullptr;
  SignatureWords signature;
  std::unordered_map<ValueId, Shape> shapes;  // every value the region reads or produces
  std::vector<FusionGroup> groups;

  size_t kernel_count() const;
  const Shape& shape(ValueId id) const { return shapes.at(id); }
  std::string describe() const;  // one line per group: kind, ops, shapes
};

// Plans `region` for `signature` (the words of ShapeSignature.h for Region::inputs).
// Fails with Unsupported when the region cannot be planned (not a compute region,
// shapes not closed, a signature that contradicts the declared shapes).
Expected<FusionPlan> plan_fusion(const Region& region, const SignatureWords& signature);

// Whether the lowering knows `op` as an f32 elementwise op (see GroupLowering.cpp).
bool is_fusable_elementwise(const Node& node);

}  // namespace dj::specializer
