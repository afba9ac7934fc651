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
  void (*axpy)(float* y, const float* x, float a, int64_t n) = nullptr;
};

const GemmIsaKernels& gemm_isa_kernels();

// The tables themselves; the wide ones only exist on x86-64 and return nullptr
// elsewhere. Callers other than gemm_isa_kernels() are tests and benchmarks.
const GemmIsaKernels* gemm_kernels_avx512();
const GemmIsaKernels* gemm_kernels_avx2();
const GemmIsaKernels* gemm_kernels_generic();

}  // namespace dj
