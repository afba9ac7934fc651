// ReductionExpRows: the exp-heavy float row loops behind Softmax, LogSoftmax and
// ReduceLogSumExp, compiled for baseline x86-64 (SSE2) and again for AVX2+FMA; the
// widest one the running CPU supports is chosen once per process (like GemmIsa),
// so the binary still runs on any x86-64 and on other architectures.
//
// Both variants use exp_f32 (ReductionVectorMath.h); they differ only in vector
// width and FMA contraction, i.e. by an ulp or so.
#pragma once

#include <cstdint>

namespace dj {

struct ExpRowKernels {
  const char* name = "";
  // q[j] = exp(p[j] - shift) for j < n; returns the sum of the q[j]. p and q do not overlap.
  float (*exp_store_sum)(const float* p, float* q, int64_t n, float shift) = nullptr;
  // The sum of exp(p[j] - shift) for j < n.
  float (*exp_sum)(const float* p, int64_t n, float shift) = nullptr;
};

const ExpRowKernels& exp_row_kernels();
// The individual tables (the AVX2 one is nullptr where it cannot run); for tests.
const ExpRowKernels* exp_row_kernels_generic();
const ExpRowKernels* exp_row_kernels_avx2();

}  // namespace dj
