// GemmWeightCache: a constant GEMM operand B (a model's weight: MatMul's and Gemm's
// second input) packed once into the panels of the blocked f32 GEMM
// (PackedGemmB, GemmKernel.h), kept in the PreparedWeights LRU, so each call packs
// only A; and a constant left operand A (a Conv's weights against its im2col
// columns) the same way (PackedGemmA). Measured: a mixture-of-experts layer (32 tokens per expert against a
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

// `a`: an f32 model constant of M * K elements read as a row-major M x K left operand
// (a Conv's weights [M, C, kh, kw]). Null when `a` is not such a tensor.
std::shared_ptr<const PackedGemmA> packed_gemm_left_weights(const Tensor& a, int64_t M, int64_t K);

}  // namespace dj
