// LayerNormPipeline: layer normalization over Halide dimension 0 (ONNX's last
// axis, LayerNormalization with axis = -1), scheduled like the softmax rows.
//
//   mean(r) = sum_x in(x, r) / n;  var(r) = sum_x (in(x, r) - mean(r))^2 / n
//   out(x, r) = (in(x, r) - mean(r)) / sqrt(var(r) + epsilon) * scale(x) [+ bias(x)]
//
// Two passes over the row (not E[x^2] - E[x]^2) for the interpreter's accuracy.
// Rows run in parallel, the two sums are vectorized (rfactor), the output is
// vectorized. `bias` may be undefined. Correct for any extents.
#pragma once

#include <vector>

#include <Halide.h>

namespace dj::jit {

Halide::Func build_layer_norm_last_axis(Halide::Func in, Halide::Expr n, Halide::Func scale, Halide::Func bias,
                                        float epsilon, const std::vector<int64_t>& extents = {});

}  // namespace dj::jit
