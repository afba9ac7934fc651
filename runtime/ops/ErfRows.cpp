// The two builds of the erf loop and the once-per-process choice between them.
#include "runtime/ops/ErfRows.h"

namespace dj {
namespace {

[[gnu::always_inline]] inline void erf_body(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = erf_f32(x[i]);
}

void erf_generic(const float* x, float* y, int64_t n) { erf_body(x, y, n); }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_HAVE_AVX2_ERF_ROWS 1
__attribute__((target("avx2,fma"))) void erf_avx2(const float* x, float* y, int64_t n) { erf_body(x, y, n); }
#endif

}  // namespace

const ErfRowKernels* erf_row_kernels_generic() {
  static const ErfRowKernels table{"generic", erf_generic};
  return &table;
}

const ErfRowKernels* erf_row_kernels_avx2() {
#ifdef DJ_HAVE_AVX2_ERF_ROWS
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return nullptr;
  static const ErfRowKernels table{"avx2", erf_avx2};
  return &table;
#else
  return nullptr;
#endif
}

const ErfRowKernels& erf_row_kernels() {
  static const ErfRowKernels* chosen = [] {
    if (const ErfRowKernels* wide = erf_row_kernels_avx2()) return wide;
    return erf_row_kernels_generic();
  }();
  return *chosen;
}

}  // namespace dj
