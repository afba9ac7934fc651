// LinalgBatchedMatMul: a batched matrix product over every numeric dtype, shared by
// MatMul, Gemm, Einsum and the integer/quantized products; and numpy_matmul on top.
//
//   for b in [0, batch):  C[b] = A[b] * B[b]     A[b]: M x K, B[b]: K x N, C[b]: M x N
//
// Operands are typed arrays of the dtype (not of its compute type); A[b] and B[b]
// start at per-batch element offsets (nullptr: all at 0) and are strided views
// (row/col strides in elements, so transposed operands cost nothing); C is written
// contiguous, batch after batch. f32 runs on the blocked GEMM (GemmKernel.h); f16 and
// bf16 are widened to f32, multiplied there and rounded once on store; f64 and the
// integer types run a plain i-k-j loop (integers wrap like the ONNX reference).
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/DType.h"
#include "runtime/Status.h"
#include "runtime/SymExpr.h"
#include "runtime/Tensor.h"

namespace dj {

struct StridedOperand {
  const void* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
  const int64_t* batch_offsets = nullptr;  // per batch, in elements; nullptr: all 0
};

// Returns Unsupported for Bool (no product defined).
Status batched_matmul(DType dtype, int64_t batch, int64_t M, int64_t N, int64_t K, StridedOperand a,
                      StridedOperand b, void* c);

// numpy.matmul of two contiguous tensors of one dtype: 1-D operands become a row
// (A) or a column (B) and that dim is dropped from the result; leading dims
// broadcast as batch dims. A stack of A against a single B runs as one tall product.
Expected<Tensor> numpy_matmul(const Tensor& a, const Tensor& b);
// Its load-time result shape; nullopt when a rank is unknown.
std::optional<SymShape> numpy_matmul_sym_shape(const std::optional<SymShape>& a, const std::optional<SymShape>& b);

}  // namespace dj
