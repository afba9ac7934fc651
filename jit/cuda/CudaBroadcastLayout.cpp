// CudaBroadcastLayout: dropping unit dims and merging dims (see the header).
#include "jit/cuda/CudaBroadcastLayout.h"

namespace dj::jit::cuda {

Expected<BroadcastLayout> broadcast_layout(const std::vector<Shape>& inputs, const Shape& output) {
  const size_t rank = output.size();
  for (int64_t d : output)
    DJ_CHECK(d >= 0, InvalidArgument, "output shape ", shape_to_string(output), " has a negative dim");
  // Per input, the element stride along each output dim (0 where broadcast).
  std::vector<std::vector<int64_t>> full_strides;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& in = inputs[i];
    DJ_CHECK(in.size() <= rank, InvalidArgument, "input ", i, " ", shape_to_string(in),
             " has a higher rank than the output ", shape_to_string(output));
    std::vector<int64_t> strides(rank, 0);
    int64_t stride = 1;
    for (size_t t = 0; t < in.size(); ++t) {
      const size_t di = in.size() - 1 - t, dout = rank - 1 - t;
      DJ_CHECK(in[di] == output[dout] || in[di] == 1, InvalidArgument, "input ", i, " ", shape_to_string(in),
               " does not broadcast to the output ", shape_to_string(output), " (dim ", di, ")");
      strides[dout] = in[di] == 1 && output[dout] != 1 ? 0 : stride;
      stride *= in[di];
    }
    full_strides.push_back(std::move(strides));
  }

  BroadcastLayout layout;
  layout.numel = shape_numel(output);
  layout.stride.resize(inputs.size());
  if (layout.numel <= 1) {  // empty or one element: a single dim, nothing to merge
    layout.extent = {layout.numel};
    for (auto& s : layout.stride) s = {0};
    return layout;
  }
  for (size_t d = 0; d < rank; ++d) {
    if (output[d] == 1) continue;  // contributes no index
    const bool merge = !layout.extent.empty() && [&] {
      for (size_t i = 0; i < inputs.size(); ++i)
        if (layout.stride[i].back() != full_strides[i][d] * output[d]) return false;
      return true;
    }();
    if (merge) {
      layout.extent.back() *= output[d];
      for (size_t i = 0; i < inputs.size(); ++i) layout.stride[i].back() = full_strides[i][d];
    } else {
      layout.extent.push_back(output[d]);
      for (size_t i = 0; i < inputs.size(); ++i) layout.stride[i].push_back(full_strides[i][d]);
    }
  }
  return layout;
}

}  // namespace dj::jit::cuda
