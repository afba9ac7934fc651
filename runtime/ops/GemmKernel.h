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
#include <memory>

#include "runtime/ops/GemmIsa.h"

namespace dj {

// Element (r, c) of the matrix is data[r * row_stride + c * col_stride].
struct MatrixRef {
  const float* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
};

// One operand of the blocked path packed ahead of time, in the driver's panels: every
// (outer block, kc-deep slice) block, where the outer dimension is A's rows (mc-row
// blocks of MR-row panels) or B's columns (nc-column blocks of NR-column panels).
// Made for one ISA table; a product on another table, or on the skinny paths, reads
// the plain operand instead.
class PackedGemmPanels {
 public:
  const GemmIsaKernels* isa() const { return isa_; }
  int64_t k() const { return k_; }
  size_t bytes() const { return floats_ * sizeof(float); }
  // The packed block of outer indices [outer0, outer0 + block) and depth [p0, p0 + kc).
  const float* block(int64_t outer0, int64_t p0) const;

 protected:
  // Sizes and allocates the blocks (throws AllocationError when out of memory).
  void allocate(const GemmIsaKernels& isa, int64_t outer, int64_t K, int64_t outer_block);
  float* mutable_block(int64_t outer0, int64_t p0) { return const_cast<float*>(block(outer0, p0)); }
  int64_t outer_ = 0, outer_block_ = 0;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  const GemmIsaKernels* isa_ = nullptr;
  int64_t k_ = 0, k_blocks_ = 0, block_floats_ = 0;
  size_t floats_ = 0;
  std::unique_ptr<float, Free> data_;
};

// A model's constant right operand (MatMul/Gemm weights, GemmWeightCache.h), so a
// call packs only A.
class PackedGemmB : public PackedGemmPanels {
 public:
  int64_t n() const { return outer_; }

 private:
  friend std::shared_ptr<const PackedGemmB> pack_gemm_b(const GemmIsaKernels& isa, int64_t K, int64_t N, MatrixRef b);
};

// A constant left operand (a Conv's weights, GemmWeightCache.h).
class PackedGemmA : public PackedGemmPanels {
 public:
  int64_t m() const { return outer_; }

 private:
  friend std::shared_ptr<const PackedGemmA> pack_gemm_a(const GemmIsaKernels& isa, int64_t M, int64_t K, MatrixRef a);
};

// Packs the M x K matrix `a` for `isa` (throws AllocationError when out of memory).
std::shared_ptr<const PackedGemmA> pack_gemm_a(const GemmIsaKernels& isa, int64_t M, int64_t K, MatrixRef a);

// Packs the K x N matrix `b` for `isa` (throws AllocationError when out of memory).
std::shared_ptr<const PackedGemmB> pack_gemm_b(const GemmIsaKernels& isa, int64_t K, int64_t N, MatrixRef b);

// `packed` (may be null): `b` packed ahead of time, used when this product takes the
// blocked path on the table it was made for; results are the same either way.
void gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a, MatrixRef b, float beta, float* c,
              int64_t ldc, const PackedGemmB* packed = nullptr);

void gemm_f32_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a,
                      const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets, float beta, float* c,
                      int64_t ldc, const int64_t* c_offsets);

// The same with an explicit kernel table (tests compare every ISA the CPU runs;
// benchmarks time them). `parallel` false runs on the calling thread only.
void gemm_f32_batched_with(const GemmIsaKernels& isa, bool parallel, int64_t batch, int64_t M, int64_t N, int64_t K,
                           float alpha, MatrixRef a, const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets,
                           float beta, float* c, int64_t ldc, const int64_t* c_offsets,
                           const PackedGemmB* packed = nullptr, const PackedGemmA* packed_a = nullptr);

}  // namespace dj
