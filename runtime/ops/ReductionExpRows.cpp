// The two builds of the exp row loops and the once-per-process choice between them.
#include "runtime/ops/ReductionExpRows.h"

#include "runtime/ops/ReductionVectorMath.h"

namespace dj {
namespace {

// Independent partial sums (one vector's worth or two) so the loop vectorizes
// without reassociating a single float sum.
template <int Lanes>
[[gnu::always_inline]] inline float exp_store_sum_body(const float* __restrict p, float* __restrict q, int64_t n,
                                                       float shift) {
  float lanes[Lanes] = {};
  int64_t j = 0;
  for (; j + Lanes <= n; j += Lanes)
    for (int l = 0; l < Lanes; ++l) {
      const float e = exp_f32(p[j + l] - shift);
      q[j + l] = e;
      lanes[l] += e;
    }
  float sum = 0;
  for (; j < n; ++j) {
    const float e = exp_f32(p[j] - shift);
    q[j] = e;
    sum += e;
  }
  for (int l = 0; l < Lanes; ++l) sum += lanes[l];
  return sum;
}

template <int Lanes>
[[gnu::always_inline]] inline float exp_sum_body(const float* __restrict p, int64_t n, float shift) {
  float lanes[Lanes] = {};
  int64_t j = 0;
  for (; j + Lanes <= n; j += Lanes)
    for (int l = 0; l < Lanes; ++l) lanes[l] += exp_f32(p[j + l] - shift);
  float sum = 0;
  for (; j < n; ++j) sum += exp_f32(p[j] - shift);
  for (int l = 0; l < Lanes; ++l) sum += lanes[l];
  return sum;
}

float exp_store_sum_generic(const float* p, float* q, int64_t n, float shift) {
  return exp_store_sum_body<8>(p, q, n, shift);
}
float exp_sum_generic(const float* p, int64_t n, float shift) { return exp_sum_body<8>(p, n, shift); }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_HAVE_AVX2_EXP_ROWS 1
__attribute__((target("avx2,fma"))) float exp_store_sum_avx2(const float* p, float* q, int64_t n, float shift) {
  return exp_store_sum_body<16>(p, q, n, shift);
}
__attribute__((target("avx2,fma"))) float exp_sum_avx2(const float* p, int64_t n, float shift) {
  return exp_sum_body<16>(p, n, shift);
}
#endif

}  // namespace

const ExpRowKernels* exp_row_kernels_generic() {
  static const ExpRowKernels table{"generic", exp_store_sum_generic, exp_sum_generic};
  return &table;
}

const ExpRowKernels* exp_row_kernels_avx2() {
#ifdef DJ_HAVE_AVX2_EXP_ROWS
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return nullptr;
  static const ExpRowKernels table{"avx2", exp_store_sum_avx2, exp_sum_avx2};
  return &table;
#else
  return nullptr;
#endif
}

const ExpRowKernels& exp_row_kernels() {
  static const ExpRowKernels* chosen = [] {
    if (const ExpRowKernels* wide = exp_row_kernels_avx2()) return wide;
    return exp_row_kernels_generic();
  }();
  return *chosen;
}

}  // namespace dj
