// GemmTile: the register tile of the blocked GEMM schedules (jit/GemmPipeline's and
// jit/BatchedGemmPipeline's): output columns (3 AVX-512 vectors) x output rows,
// accumulated in registers over all of K. No Halide here, so the planner can ask
// which schedule a product will take without compiling against Halide.
#pragma once

#include <cstdint>

namespace dj::jit {

constexpr int kGemmTileColumns = 48;
constexpr int kGemmTileRows = 8;

// Whether a batched product of known sizes takes the register-tiled schedule (a whole
// tile fits), rather than the row schedule that serves the rest.
constexpr bool batched_gemm_register_tiled(int64_t n, int64_t m) {
  return n >= kGemmTileColumns && m >= kGemmTileRows;
}

}  // namespace dj::jit
