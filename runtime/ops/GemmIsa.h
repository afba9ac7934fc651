// GemmIsa: the table of per-instruction-set GEMM kernels and the choice among them.
//
// Each table is compiled in its own translation unit (GemmIsaAvx512.cpp,
// GemmIsaAvx2.cpp, GemmIsaGeneric.cpp) from GemmMicroKernel.h; gemm_isa_kernels()
// picks the widest one the running CPU supports, once per process, so the binary
// stays runnable on any x86-64 (and on other architectures, with the generic one).
#pragma once

#include <cstdint>

namespace dj {

struct GemmIsaKernels {
  const char* name = "";
  int mr = 0;  // register tile rows (packed A panel height)
  int nr = 0;  // register tile columns (packed B panel width)
  // C[0:mc,0:nc] (ldc) = alpha*A*B (+ beta*C, or + C when accumulate) over one kc-deep
  // block of packed panels.
  void (*packed_block)(int64_t mc, int64_t nc, int64_t kc, const float* packed_a, const float* packed_b, float* c,
                       int64_t ldc, float alpha, float beta, bool accumulate) = nullptr;
  float (*dot)(const float* x, const float* y, int64_t n) = nullptr;
  // One row of a skinny product: c[0:n] = alpha * sum_k a[k * a_stride] * b[k * ldb + 0:n]
  // (+ beta * c[0:n] unless beta == 0, when c is not read). Columns go in register
  // blocks whose sums stay in registers over all of K: B is streamed once, C written once.
  void (*gemv_row)(const float* a, int64_t a_stride, const float* b, int64_t ldb, int64_t k, float* c, int64_t n,
                   float alpha, float beta) = nullptr;
};

const GemmIsaKernels& gemm_isa_kernels();

// The tables themselves; the wide ones only exist on x86-64 and return nullptr
// elsewhere. Callers other than gemm_isa_kernels() are tests and benchmarks.
const GemmIsaKernels* gemm_kernels_avx512();
const GemmIsaKernels* gemm_kernels_avx2();
const GemmIsaKernels* gemm_kernels_generic();

}  // namespace dj
