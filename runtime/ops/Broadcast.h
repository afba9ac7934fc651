// Numpy-style (ONNX multidirectional) broadcasting, shared by every op that
// broadcasts: the output shape, both at run time (Shape) and at load time
// (SymShape), and per-input strides that map an output index to an input offset.
#pragma once

#include <optional>
#include <vector>

#include "runtime/Status.h"
#include "runtime/SymExpr.h"
#include "runtime/Tensor.h"

namespace dj {

// Broadcast shape of several shapes, or an InvalidArgument error naming both dims.
Expected<Shape> broadcast_shapes(const std::vector<Shape>& shapes);
// Load-time version: a symbolic dim against 1 gives the symbolic dim; two different
// symbolic dims give the non-1 one when the other is provably 1, else the first (ONNX
// models are assumed valid; the kernel checks at run time).
std::optional<SymShape> broadcast_sym_shapes(const std::vector<std::optional<SymShape>>& shapes);

// Strides (in elements) of `in_shape`, a contiguous tensor, viewed as broadcast to
// `out_shape` (0 where the dimension is broadcast). in_shape is right-aligned.
Strides broadcast_strides(const Shape& in_shape, const Shape& out_shape);

}  // namespace dj
