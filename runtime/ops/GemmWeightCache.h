// GemmWeightCache: a constant GEMM operand B (a model's weight: MatMul's and Gemm's
// second input) packed once into the panels of the blocked f32 GEMM
// (PackedGemmB, GemmKernel.h), kept in the PreparedWeights LRU, so each call packs
// only A. Measured: a mixture-of-experts layer (32 tokens per expert against a
// 256x1024 weight) spent 37% of its time packing B on every call.
//
// Only for tensors the loader marked as model constants (Tensor::is_model_constant):
// an activation B (attention's K^T) changes every call and is packed as before.
#pragma once

#include <memory>

#include "runtime/Tensor.h"
#include "runtime/ops/GemmKernel.h"

namespace dj {

// `b`: a 2-D f32 model constant, read as op(B) = b (K x N) or, with `transposed`,
// b^T (b is N x K). Null when `b` is not such a tensor (the caller packs per call).
std::shared_ptr<const PackedGemmB> packed_gemm_weights(const Tensor& b, bool transposed);

}  // namespace dj
