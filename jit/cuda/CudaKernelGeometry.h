// CudaKernelGeometry: the block shapes and work splits that the generated kernels
// assume and that launch_dims computes grids from — one set of constants so that
// the two cannot disagree. Every generated kernel declares its block size with
// __launch_bounds__ and must be launched with exactly that many threads (x only).
#pragma once

#include <cstdint>

namespace dj::jit::cuda {

inline constexpr int kWarpSize = 32;

// Elementwise: a grid-stride loop; the grid is capped (each thread then loops),
// which keeps launches of any size legal and amortizes per-thread setup.
inline constexpr int kElementwiseBlock = 256;
inline constexpr int64_t kElementwiseMaxBlocks = 8192;
// The index path uses 32-bit index math (division by extents is much cheaper in
// 32 bits) when i + grid stride cannot overflow: numel at most 2^30.
inline constexpr int64_t kMaxNumel32BitIndex = int64_t(1) << 30;

// Row kinds (softmax, layer norm, row reduction): rows of at most kWarpRowMaxCols
// elements get one warp each (kRowsPerWarpBlock rows per block, shuffles only);
// longer rows get one block each (shuffles, then __shared__ partials across warps).
inline constexpr int kRowBlock = 256;
inline constexpr int kRowsPerWarpBlock = kRowBlock / kWarpSize;
inline constexpr int64_t kWarpRowMaxCols = 1024;
inline constexpr int64_t kRowMaxBlocks = int64_t(1) << 20;  // the kernels loop over further rows
inline bool rows_use_warp_per_row(int64_t cols) { return cols <= kWarpRowMaxCols; }

// Gemm: kGemmTileM x kGemmTileN output tiles, kGemmTileK deep, by a 16 x 16 thread
// block in which each thread owns kGemmThreadTile x kGemmThreadTile outputs strided
// by 16 (so shared reads are conflict-free and global stores coalesce).
inline constexpr int kGemmThreadsPerSide = 16;
inline constexpr int kGemmThreadTile = 4;
inline constexpr int kGemmTileM = kGemmThreadsPerSide * kGemmThreadTile;
inline constexpr int kGemmTileN = kGemmThreadsPerSide * kGemmThreadTile;
inline constexpr int kGemmTileK = 16;
inline constexpr int kGemmBlock = kGemmThreadsPerSide * kGemmThreadsPerSide;
inline constexpr int64_t kGemmMaxBlocksY = 65535;  // CUDA's limit on gridDim.y; the kernel loops beyond
inline constexpr int64_t kGemmMaxBlocksX = int64_t(1) << 20;
inline constexpr int64_t kGemmMaxBlocksZ = 65535;  // batched GEMM: one z-slice of blocks per matrix, looping beyond
static_assert(kGemmTileM * kGemmTileK % kGemmBlock == 0 && kGemmTileK * kGemmTileN % kGemmBlock == 0,
              "each thread loads a whole number of tile elements");

}  // namespace dj::jit::cuda
