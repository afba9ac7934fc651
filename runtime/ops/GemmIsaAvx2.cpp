// The AVX2+FMA GEMM kernels: 8-float vectors, a 6x16 register tile (12 of the 16
// ymm registers hold accumulators).
#include "runtime/ops/GemmIsa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_GEMM_TARGET __attribute__((target("avx2,fma")))
#define DJ_GEMM_VBYTES 32
#define DJ_GEMM_MR 6
#define DJ_GEMM_NR 16
#include "runtime/ops/GemmMicroKernel.h"

namespace dj {
const GemmIsaKernels* gemm_kernels_avx2() {
  static const GemmIsaKernels table = dj_gemm_kernels_table("avx2");
  return &table;
}
}  // namespace dj
#else
namespace dj {
const GemmIsaKernels* gemm_kernels_avx2() { return nullptr; }
}  // namespace dj
#endif
