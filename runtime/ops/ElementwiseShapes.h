// ElementwiseShapes: the load-time shape functions the elementwise family
// shares. Broadcasting ops get the symbolic broadcast of their inputs' shapes
// (unknown when any input's rank is unknown); integer arithmetic on small
// shape-like tensors (Shape -> Gather -> Mul -> Concat -> Reshape) also carries
// the symbolic element values forward, so a later Reshape still knows its dims.
#pragma once

#include <optional>
#include <vector>

#include "runtime/OpRegistry.h"

namespace dj::elementwise {

Status infer_same_as_input(ShapeContext& ctx);    // out 0: dtype and shape of input 0
Status infer_bool_like_input(ShapeContext& ctx);  // out 0: bool, shape of input 0
Status infer_broadcast(ShapeContext& ctx);        // out 0: dtype of input 0, broadcast of all present inputs
Status infer_broadcast_bool(ShapeContext& ctx);   // comparisons and logic: bool, broadcast shape
Status infer_where(ShapeContext& ctx);            // dtype of input 1, broadcast of inputs 0..2
// infer_broadcast, plus symbolic element values for integer Add Sub Mul Div Min Max.
Status infer_arithmetic(ShapeContext& ctx);

// The element values of a small integer tensor of rank <= 1 known at load time
// (from sym_values or a constant), else nullopt.
std::optional<std::vector<SymExpr>> known_int_values(const ValueInfo* v);

}  // namespace dj::elementwise
