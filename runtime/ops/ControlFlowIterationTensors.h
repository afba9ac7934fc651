// ControlFlowIterationTensors: cutting a tensor into per-iteration slices and
// putting per-iteration results back together, for Loop's scan outputs and
// Scan's scan inputs/outputs. Byte copies, so every dtype works the same.
//
// All tensors here are contiguous. A slice along `axis` removes that axis; the
// stacked tensor has the slices' shape with one axis inserted.
#pragma once

#include <string>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

// Slice `index` of t along `axis`, as a new contiguous tensor of rank t.rank()-1.
Tensor take_slice(const Tensor& t, int axis, int64_t index);

// Writes src as slice `index` of dst along `axis`; dst's shape is src's shape
// with dst.dim(axis) inserted at `axis` (the caller checks).
void put_slice(Tensor& dst, int axis, int64_t index, const Tensor& src);

// The shape of a stack of `count` slices of `slice_shape` along `axis`.
Shape stacked_shape(const Shape& slice_shape, int axis, int64_t count);

// Stacks parts along a new axis 0. Undefined parts become zero slices; the
// defined ones must share one dtype and shape (else an InvalidArgument error
// naming `what` and the part's index). Returns an undefined Tensor when no part
// is defined.
Expected<Tensor> stack_slices(const std::vector<Tensor>& parts, const std::string& what);

// A zero-filled output of `count` stacked slices when no slice was produced (no
// iteration ran): the declared body output's shape if all its dims are constants,
// else a 1-D [count] tensor; the declared dtype, else f32.
Tensor stack_of_declared(const ValueInfo& declared, int64_t axis, int64_t count);

}  // namespace dj
