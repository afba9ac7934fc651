// GemmMicroKernel: the register-tiled inner kernels of the f32 GEMM, written once
// with GCC/Clang vector extensions and compiled once per instruction set.
//
// Not a normal header: a per-ISA translation unit (GemmIsaAvx512.cpp, ...) defines
//   DJ_GEMM_TARGET   a function attribute, e.g. __attribute__((target("avx2,fma")))
//   DJ_GEMM_VBYTES   the vector width in bytes (16, 32 or 64)
//   DJ_GEMM_MR, DJ_GEMM_NR   the register tile (NR a multiple of the vector width)
// and then includes this file, which defines (with internal linkage) the kernels
// and `dj_gemm_kernels_table()` returning them as a GemmIsaKernels. Everything here
// carries DJ_GEMM_TARGET, and nothing here calls a standard-library template, so no
// code compiled for a wider ISA can be merged (ODR) into code that runs on a CPU
// without it.
//
// Packed layouts (see GemmKernel.cpp, which packs): A is ceil(mc/MR) panels, each
// kc steps of MR floats (row i of the panel at offset i); B is ceil(nc/NR) panels,
// each kc steps of NR floats. Both are zero-padded to whole panels and 64-byte aligned.

#include <cstdint>
#include <cstring>

#include "runtime/ops/GemmIsa.h"

namespace {

constexpr int kMR = DJ_GEMM_MR;
constexpr int kNR = DJ_GEMM_NR;
constexpr int kVecFloats = DJ_GEMM_VBYTES / 4;
constexpr int kNV = kNR / kVecFloats;  // vectors per tile row
static_assert(kNR % kVecFloats == 0, "NR must be a multiple of the vector width");

typedef float Vec __attribute__((vector_size(DJ_GEMM_VBYTES)));

DJ_GEMM_TARGET inline Vec load_unaligned(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof(Vec));
  return v;
}
DJ_GEMM_TARGET inline void store_unaligned(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof(Vec)); }

// p[0:VecFloats] = alpha * v (+ p, or + beta * p): one vector of a C tile row.
DJ_GEMM_TARGET inline void store_tile_vector(float* p, Vec v, float alpha, float beta, bool accumulate) {
  Vec r = v * alpha;
  if (accumulate) r += load_unaligned(p);
  else if (beta != 0.0f) r += load_unaligned(p) * beta;
  store_unaligned(p, r);
}

// One R x NR tile of C (R <= MR rows of an MR-row A panel): acc = sum_k a[k][:R] (x)
// b[k][:], then
//   accumulate:   C += alpha * acc
//   beta == 0:    C  = alpha * acc            (C is not read: it may hold NaN garbage)
//   otherwise:    C  = beta * C + alpha * acc
// n: the valid columns of the tile (edge tiles compute on zero padding and store less).
// One instance per R, so a panel of M's last rows multiplies only those rows (with one
// MR-row kernel, M = 65 paid for 72 rows).
// Not inlined on purpose: inside packed_block's loops GCC ran out of registers and
// spilled accumulators (half the speed); alone, all of them stay in registers.
template <int R>
DJ_GEMM_TARGET __attribute__((noinline)) void micro_tile(int64_t kc, const float* __restrict a,
                                                         const float* __restrict b, float* c, int64_t ldc, int n,
                                                         float alpha, float beta, bool accumulate) {
  Vec acc[R][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < kNV; ++j) acc[i][j] = Vec{};

  for (int64_t k = 0; k < kc; ++k) {
    // B is read through the pointer, not copied into a local array: GCC keeps such
    // an array on the stack (a store/reload on every k) once the tile is large.
    const Vec* bv = reinterpret_cast<const Vec*>(b);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const float ai = a[i];
#pragma GCC unroll 8
      for (int j = 0; j < kNV; ++j) acc[i][j] += bv[j] * ai;
    }
    a += kMR;
    b += kNR;
  }

  if (n == kNR) {
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* row = c + i * ldc;
#pragma GCC unroll 8
      for (int j = 0; j < kNV; ++j) store_tile_vector(row + j * kVecFloats, acc[i][j], alpha, beta, accumulate);
    }
    return;
  }
  // N's last columns: the accumulators go to a local tile (indexing them by a run-time
  // column count would spill them), then whole vectors where they fit, then lane by lane.
  alignas(64) float tile[R][kNR];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < kNV; ++j) *reinterpret_cast<Vec*>(&tile[i][j * kVecFloats]) = acc[i][j];
  for (int i = 0; i < R; ++i) {
    float* row = c + i * ldc;
    int j = 0;
    for (; j + kVecFloats <= n; j += kVecFloats)
      store_tile_vector(row + j, *reinterpret_cast<const Vec*>(&tile[i][j]), alpha, beta, accumulate);
    for (; j < n; ++j) {
      float r = tile[i][j] * alpha;
      if (accumulate) r += row[j];
      else if (beta != 0.0f) r += row[j] * beta;
      row[j] = r;
    }
  }
}

// micro_tile<m> for a run-time m in [1, R].
template <int R>
DJ_GEMM_TARGET inline void micro_tile_rows(int m, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                           int n, float alpha, float beta, bool accumulate) {
  if constexpr (R >= 1) {
    if (m == R) micro_tile<R>(kc, a, b, c, ldc, n, alpha, beta, accumulate);
    else micro_tile_rows<R - 1>(m, kc, a, b, c, ldc, n, alpha, beta, accumulate);
  }
}

// C[0:mc, 0:nc] op= alpha * packed_a * packed_b over one kc-deep block.
DJ_GEMM_TARGET void packed_block(int64_t mc, int64_t nc, int64_t kc, const float* packed_a, const float* packed_b,
                                 float* c, int64_t ldc, float alpha, float beta, bool accumulate) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
    const float* pb = packed_b + (j0 / kNR) * kc * kNR;
    const int n = static_cast<int>(nc - j0 < kNR ? nc - j0 : kNR);
    for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
      const float* pa = packed_a + (i0 / kMR) * kc * kMR;
      const int m = static_cast<int>(mc - i0 < kMR ? mc - i0 : kMR);
      micro_tile_rows<kMR>(m, kc, pa, pb, c + i0 * ldc + j0, ldc, n, alpha, beta, accumulate);
    }
  }
}

// sum_i x[i] * y[i], contiguous.
DJ_GEMM_TARGET float dot(const float* __restrict x, const float* __restrict y, int64_t n) {
  constexpr int kLanes = 4;  // independent accumulators hide FMA latency
  Vec acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes * kVecFloats <= n; i += kLanes * kVecFloats) {
#pragma GCC unroll 4
    for (int l = 0; l < kLanes; ++l)
      acc[l] += load_unaligned(x + i + l * kVecFloats) * load_unaligned(y + i + l * kVecFloats);
  }
  for (; i + kVecFloats <= n; i += kVecFloats) acc[0] += load_unaligned(x + i) * load_unaligned(y + i);
  Vec total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  float s = 0.0f;
  for (int l = 0; l < kVecFloats; ++l) s += total[l];
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

// out = alpha * sum (+ beta * out unless beta == 0).
DJ_GEMM_TARGET inline void finish_gemv(float* out, Vec sum, float alpha, float beta) {
  Vec v = sum * alpha;
  if (beta != 0.0f) v += load_unaligned(out) * beta;
  store_unaligned(out, v);
}

// c[j] = alpha * sum_k a[k*as] * b[k*ldb + j] (+ beta * c[j]) for j in [0, n).
DJ_GEMM_TARGET void gemv_row(const float* __restrict a, int64_t as, const float* __restrict b, int64_t ldb, int64_t k,
                             float* __restrict c, int64_t n, float alpha, float beta) {
  constexpr int kBlock = 4;  // vectors per column block, summed in registers
  int64_t j = 0;
  for (; j + kBlock * kVecFloats <= n; j += kBlock * kVecFloats) {
    Vec acc[kBlock] = {};
    const float* bj = b + j;
    for (int64_t p = 0; p < k; ++p) {
      const float s = a[p * as];
      const float* row = bj + p * ldb;
#pragma GCC unroll 4
      for (int l = 0; l < kBlock; ++l) acc[l] += load_unaligned(row + l * kVecFloats) * s;
    }
#pragma GCC unroll 4
    for (int l = 0; l < kBlock; ++l) finish_gemv(c + j + l * kVecFloats, acc[l], alpha, beta);
  }
  for (; j + kVecFloats <= n; j += kVecFloats) {
    Vec acc = {};
    for (int64_t p = 0; p < k; ++p) acc += load_unaligned(b + p * ldb + j) * a[p * as];
    finish_gemv(c + j, acc, alpha, beta);
  }
  for (; j < n; ++j) {
    float s = 0.0f;
    for (int64_t p = 0; p < k; ++p) s += a[p * as] * b[p * ldb + j];
    c[j] = beta != 0.0f ? alpha * s + beta * c[j] : alpha * s;
  }
}

dj::GemmIsaKernels dj_gemm_kernels_table(const char* name) {
  dj::GemmIsaKernels k;
  k.name = name;
  k.mr = kMR;
  k.nr = kNR;
  k.packed_block = &packed_block;
  k.dot = &dot;
  k.gemv_row = &gemv_row;
  return k;
}

}  // namespace
