// The AVX-512 GEMM kernels: 16-float vectors, an 8x32 register tile (16 of the
// 32 zmm registers hold accumulators; 6x32 and 12x32 measured the same, and 8
// rows waste less on short edge tiles).
#include "runtime/ops/GemmIsa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_GEMM_TARGET __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define DJ_GEMM_VBYTES 64
#define DJ_GEMM_MR 8
#define DJ_GEMM_NR 32
#include "runtime/ops/GemmMicroKernel.h"

namespace dj {
const GemmIsaKernels* gemm_kernels_avx512() {
  static const GemmIsaKernels table = dj_gemm_kernels_table("avx512");
  return &table;
}
}  // namespace dj
#else
namespace dj {
const GemmIsaKernels* gemm_kernels_avx512() { return nullptr; }
}  // namespace dj
#endif
