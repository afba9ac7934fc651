// ShapeFamily: how the shape / data-movement op family is split over files, and
// the few argument readers its kernels share.
//
// register_shape_ops() (ShapeOps.cpp) calls each register_* below; each file
// registers the ops it implements, kernel and shape function together.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

void register_shape_view_ops(OpRegistry& r);       // ShapeOps.cpp: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity
void register_shape_generator_ops(OpRegistry& r);  // ShapeGeneratorOps.cpp: Constant, ConstantOfShape, Range, EyeLike, OneHot
void register_layout_ops(OpRegistry& r);           // DataMovementLayoutOps.cpp: Transpose, Concat, Split, DepthToSpace, SpaceToDepth
void register_slice_pad_ops(OpRegistry& r);        // DataMovementSliceOps.cpp: Slice, Pad, Expand, Tile
void register_resize_ops(OpRegistry& r);           // DataMovementResizeOps.cpp: Resize, Upsample
void register_mask_ops(OpRegistry& r);             // DataMovementMaskOps.cpp: Trilu, ReverseSequence, Compress, NonZero
void register_gather_ops(OpRegistry& r);           // GatherOps.cpp: Gather, GatherElements, GatherND
void register_scatter_ops(OpRegistry& r);          // ScatterOps.cpp: ScatterND, ScatterElements, Scatter

// The integer elements of optional input i (empty when absent).
inline std::vector<int64_t> input_ints(const KernelContext& ctx, size_t i) {
  return ctx.has_input(i) ? ctx.input(i).to_int64_vector() : std::vector<int64_t>{};
}

// Ops whose `axes` (or `split`) moved from an attribute to input `input_index`
// in opset 13: the list from the input when given, else from the attribute
// (accepting either form at any opset is harmless and eases odd exporters);
// `present` tells whether it was given at all.
inline std::vector<int64_t> attr_or_input_ints(const KernelContext& ctx, const char* name, size_t input_index,
                                               bool& present) {
  if (ctx.has_input(input_index)) {
    present = true;
    return ctx.input(input_index).to_int64_vector();
  }
  present = ctx.node().has_attr(name);
  return ctx.node().attr_ints(name);
}

// Load-time counterpart: `present` is false when neither the input nor the
// attribute is given; nullopt when given but its elements are not known.
inline std::optional<std::vector<SymExpr>> known_attr_or_input(const ShapeContext& ctx, const char* name,
                                                               size_t input_index, bool& present) {
  if (const ValueInfo* v = ctx.input(input_index)) {
    present = true;
    return known_elements(v);
  }
  present = ctx.node().has_attr(name);
  std::vector<SymExpr> out;
  for (int64_t x : ctx.node().attr_ints(name)) out.emplace_back(x);
  return out;
}

// Copies a whole tensor's bytes into a fresh output of another shape (the
// "view" ops: Reshape, Flatten, Squeeze, Unsqueeze, Identity).
inline void copy_to_output(KernelContext& ctx, size_t i, const Tensor& in, const Shape& shape) {
  Tensor& out = ctx.allocate_output(i, in.dtype(), shape);
  if (in.nbytes()) std::memcpy(out.raw_data(), in.raw_data(), in.nbytes());
}

}  // namespace dj
