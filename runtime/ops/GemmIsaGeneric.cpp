// The baseline GEMM kernels (SSE2 on x86-64, the target's default vectors
// elsewhere): 4-float vectors, a 4x8 register tile; and the choice of table.
#include "runtime/ops/GemmIsa.h"

#define DJ_GEMM_TARGET
#define DJ_GEMM_VBYTES 16
#define DJ_GEMM_MR 4
#define DJ_GEMM_NR 8
#include "runtime/ops/GemmMicroKernel.h"

namespace dj {

const GemmIsaKernels* gemm_kernels_generic() {
  static const GemmIsaKernels table = dj_gemm_kernels_table("generic");
  return &table;
}

const GemmIsaKernels& gemm_isa_kernels() {
  static const GemmIsaKernels* chosen = [] {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return gemm_kernels_avx512();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return gemm_kernels_avx2();
#endif
    return gemm_kernels_generic();
  }();
  return *chosen;
}

}  // namespace dj
