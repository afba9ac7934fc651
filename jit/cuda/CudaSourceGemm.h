// CudaSourceGemm: CUDA C for out[m, n] = A[m, k] x B[k, n] (+ bias[n]) (then ReLU)
// (+ residual[m, n]) (then ReLU), all row-major f32: a shared-memory tiled kernel
// with the epilogue fused; and for BatchedGemm, the same kernel over a batch of
// independent products out[b] = A[b] x B[b] (matrices contiguous one after another),
// blockIdx.z picking the matrix.
//
// Each 256-thread block computes 64 x 64 output tiles (looping over tiles, and over
// matrices, when the grid is capped), stepping through k 16 at a time: the A tile is
// stored transposed (As[kk][row], padded to 65 columns) and the B tile as is, both
// zero-filled outside the matrices, so m, n, k need not be multiples of the tile;
// each thread accumulates 4 x 4 outputs strided by 16 in registers. Barriers
// separate loading a tile from reading it and reading it from loading the next.
// ReLU is x < 0 ? 0 : x (NaN passes through), as the reference Relu. This is the
// fallback and the GPU-less tests' subject; on GPUs cuBLASLt is preferred for the
// GEMMs it can fuse (bias, ReLU; not the residual).
#pragma once

#include <string>

#include "jit/cuda/CudaKernelSpec.h"

namespace dj::jit::cuda {

// Precondition: validate_spec(spec) is ok and spec.kind is Gemm or BatchedGemm.
std::string gemm_kernel_source(const CudaKernelSpec& spec);

}  // namespace dj::jit::cuda
