// GemmKernel: the one f32 matrix multiply under MatMul, Gemm, Einsum and Conv.
//
//   C[M,N] = alpha * A[M,K] * B[K,N] + beta * C        (C row-major, leading dim ldc)
//
// A and B are strided views (any row and column stride, so transposes are free);
// beta == 0 means C is only written, never read (it may be uninitialized). The
// batched form runs `batch` independent products whose operands sit at per-batch
// element offsets (nullptr offsets: every batch at offset 0, i.e. a broadcast).
//
// How: GotoBLAS/BLIS-style blocking. For each NC-wide column block and KC-deep
// slice, B is packed once (KC x NC) and shared; the MC-row blocks of A are packed
// per task and run in parallel (TBB) through a register-tiled micro-kernel
// (GemmMicroKernel.h) compiled per ISA and chosen at run time (AVX-512 8x32,
// AVX2 6x16, baseline SSE 4x8). Many batches run one batch per task instead.
// Skinny products (a few rows, or a few columns) skip packing and run dot/GEMV-row
// loops. Results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "runtime/ops/GemmIsa.h"

namespace dj {

// Element (r, c) of the matrix is data[r * row_stride + c * col_stride].
struct MatrixRef {
  const float* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
};

void gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a, MatrixRef b, float beta, float* c,
              int64_t ldc);

void gemm_f32_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a,
                      const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets, float beta, float* c,
                      int64_t ldc, const int64_t* c_offsets);

// The same with an explicit kernel table (tests compare every ISA the CPU runs;
// benchmarks time them). `parallel` false runs on the calling thread only.
void gemm_f32_batched_with(const GemmIsaKernels& isa, bool parallel, int64_t batch, int64_t M, int64_t N, int64_t K,
                           float alpha, MatrixRef a, const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets,
                           float beta, float* c, int64_t ldc, const int64_t* c_offsets);

}  // namespace dj
