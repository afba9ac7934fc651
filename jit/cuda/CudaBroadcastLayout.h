// CudaBroadcastLayout: NumPy broadcasting of a kernel's inputs to its output,
// reduced to the fewest dims an index computation needs.
//
// Output dims of extent 1 are dropped, and adjacent dims merge whenever every
// input walks them as one (stride[d] == stride[d+1] * extent[d+1], which covers
// both "contiguous in this input" and "broadcast along both"). The result has at
// least one dim. It is flat (one dim) exactly when every input is either the full
// output (stride 1) or a single element (stride 0): the case the generated
// kernels run without index math, 16 bytes at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj::jit::cuda {

struct BroadcastLayout {
  std::vector<int64_t> extent;               // coalesced output dims, row-major, never empty
  std::vector<std::vector<int64_t>> stride;  // per input, per coalesced dim (0 = broadcast)
  int64_t numel = 0;                         // of the output

  int rank() const { return static_cast<int>(extent.size()); }
  bool flat() const { return extent.size() == 1; }
  bool operator==(const BroadcastLayout&) const = default;
};

// Fails (InvalidArgument, naming the input and both shapes) when an input has a
// higher rank than the output or a dim that is neither 1 nor the output's.
Expected<BroadcastLayout> broadcast_layout(const std::vector<Shape>& inputs, const Shape& output);

}  // namespace dj::jit::cuda
