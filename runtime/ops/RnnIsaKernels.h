// RnnIsaKernels: the f32 kernels of the recurrent ops (see RnnIsa.h), written once
// with GCC/Clang vector extensions and compiled once per instruction set.
//
// Not a normal header: a per-ISA translation unit (RnnIsaAvx512.cpp, ...) defines
//   DJ_RNN_TARGET     a function attribute, e.g. __attribute__((target("avx2,fma")))
//   DJ_RNN_VBYTES     the vector width in bytes (16, 32 or 64)
//   DJ_RNN_ACC_REGS   how many vector registers a product tile may use as accumulators
// and then includes this file, which defines (with internal linkage) the kernels and
// `dj_rnn_kernels_table()` returning them as an RnnIsaKernels. Everything here carries
// DJ_RNN_TARGET and calls no standard-library template, so no code compiled for a
// wider ISA can be merged (ODR) into code that runs on a CPU without it.
//
// The product tile keeps MR rows x NV vectors of accumulators in registers for the
// whole depth (or one L2-sized depth block when several row groups share a panel);
// a panel row is read once per row group with aligned vector loads (panels are
// 64-byte aligned, RnnPanelWeights.h). With few accumulators the depth is split into
// S interleaved partial sums so that FMA latency does not bound a one-row product.

#include <cstdint>

#include "runtime/ops/RnnIsa.h"

namespace {

constexpr int kLanes = DJ_RNN_VBYTES / 4;
constexpr int kAccRegs = DJ_RNN_ACC_REGS;
// Depth block of a panel that several row groups share: it stays in L2 between them.
// Measured on Zen 5: streaming a 64-128 KiB panel from L2 once per row group beats
// L1-sized blocks by 5-10% (each block boundary stores and reloads the partial sums).
constexpr int64_t kSharedPanelBytes = 128 * 1024;
constexpr int64_t kPrefetchFloats = 256;       // 1 KiB ahead in a panel (measured: 256..512 best)

typedef float Vec __attribute__((vector_size(DJ_RNN_VBYTES)));
typedef int32_t IVec __attribute__((vector_size(DJ_RNN_VBYTES)));

DJ_RNN_TARGET inline Vec load(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof(Vec));
  return v;
}
DJ_RNN_TARGET inline void store(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof(Vec)); }
DJ_RNN_TARGET inline Vec splat(float x) { return Vec{} + x; }
// mask ? a : b, per lane (mask lanes are all ones or all zeros).
DJ_RNN_TARGET inline Vec pick(IVec mask, Vec a, Vec b) {
  return reinterpret_cast<Vec>((reinterpret_cast<IVec>(a) & mask) | (reinterpret_cast<IVec>(b) & ~mask));
}

// ---- activations -------------------------------------------------------------

// e^x: the Cephes expf reduction and polynomial of ReductionVectorMath.h's exp_f32, on
// whole vectors. Below -86 gives 0, above 88.72 gives +inf, NaN stays NaN.
DJ_RNN_TARGET inline Vec exp_vec(Vec x) {
  const Vec hi = splat(88.72283f), lo = splat(-86.0f);
  Vec c = pick(~(x >= lo), lo, x);  // NaN clamps to lo too: the int conversion stays defined
  c = pick(c > hi, hi, c);
  const Vec shifter = splat(12582912.0f);  // 1.5 * 2^23: adding and subtracting it rounds
  const Vec n = (c * 1.44269504088896341f + shifter) - shifter;
  const Vec r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
  Vec p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const Vec er = (p * r) * r + r + 1.0f;
  const IVec bits = (__builtin_convertvector(n, IVec) + 126) << 23;  // 2^(n-1): n = 128 stays finite
  const Vec y = (er * reinterpret_cast<Vec>(bits)) * 2.0f;
  const Vec inf = splat(__builtin_inff());
  const Vec clamped = pick(x > hi, inf, pick(x < lo, Vec{}, y));
  return pick(x != x, x, clamped);
}

DJ_RNN_TARGET inline Vec sigmoid_vec(Vec x) { return 1.0f / (1.0f + exp_vec(-x)); }

// tanh: Cephes tanhf on |x|, the sign of x put back (tanh is odd; this also keeps
// tanh(-0) = -0). An odd polynomial below |x| = 0.625, where 1 - 2/(e^2|x| + 1)
// would cancel, the exponential form above it.
DJ_RNN_TARGET inline Vec tanh_vec(Vec x) {
  const IVec sign_bit = IVec{} + static_cast<int32_t>(0x80000000u);
  const Vec ax = reinterpret_cast<Vec>(reinterpret_cast<IVec>(x) & ~sign_bit);
  const Vec s = ax * ax;
  Vec p = splat(-5.70498872745e-3f);
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const Vec small = (p * s) * ax + ax;
  const Vec e = exp_vec(ax + ax);
  const Vec big = 1.0f - 2.0f / (e + 1.0f);
  const Vec magnitude = pick(ax < 0.625f, small, big);
  return reinterpret_cast<Vec>(reinterpret_cast<IVec>(magnitude) | (reinterpret_cast<IVec>(x) & sign_bit));
}

// The first n (< kLanes) floats of p, zero-padded; and the matching store.
DJ_RNN_TARGET inline Vec load_part(const float* p, int64_t n) {
  float tmp[kLanes] = {};
  for (int64_t i = 0; i < n; ++i) tmp[i] = p[i];
  return load(tmp);
}
DJ_RNN_TARGET inline void store_part(float* p, Vec v, int64_t n) {
  float tmp[kLanes];
  store(tmp, v);
  for (int64_t i = 0; i < n; ++i) p[i] = tmp[i];
}

DJ_RNN_TARGET void sigmoid_span(float* v, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(v + i, sigmoid_vec(load(v + i)));
  if (i < n) store_part(v + i, sigmoid_vec(load_part(v + i, n - i)), n - i);
}

DJ_RNN_TARGET void tanh_span(float* v, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(v + i, tanh_vec(load(v + i)));
  if (i < n) store_part(v + i, tanh_vec(load_part(v + i, n - i)), n - i);
}

// ---- fused state updates -----------------------------------------------------

// Reads `count` (<= kLanes) floats at p + j: a whole vector, or a zero-padded part.
DJ_RNN_TARGET inline Vec get(const float* p, int64_t j, int64_t count) {
  return count == kLanes ? load(p + j) : load_part(p + j, count);
}
DJ_RNN_TARGET inline void put(float* p, int64_t j, Vec v, int64_t count) {
  if (count == kLanes) store(p + j, v);
  else store_part(p + j, v, count);
}

DJ_RNN_TARGET void lstm_cell(const dj::RnnLstmCell& cell) {
  for (int64_t j = 0; j < cell.n; j += kLanes) {
    const int64_t m = cell.n - j < kLanes ? cell.n - j : kLanes;
    Vec c = get(cell.c, j, m);
    Vec i = get(cell.gi, j, m), f = get(cell.gf, j, m), o = get(cell.go, j, m);
    const Vec g = tanh_vec(get(cell.gc, j, m));
    if (cell.pi) {
      i += get(cell.pi, j, m) * c;
      f += get(cell.pf, j, m) * c;
    }
    i = sigmoid_vec(i);
    f = cell.input_forget ? 1.0f - i : sigmoid_vec(f);
    c = f * c + i * g;
    if (cell.po) o += get(cell.po, j, m) * c;
    const Vec h = sigmoid_vec(o) * tanh_vec(c);
    put(cell.c, j, c, m);
    put(cell.h, j, h, m);
    if (cell.y) put(cell.y, j, h, m);
  }
}

DJ_RNN_TARGET void gru_cell(const dj::RnnGruCell& cell) {
  for (int64_t j = 0; j < cell.n; j += kLanes) {
    const int64_t m = cell.n - j < kLanes ? cell.n - j : kLanes;
    const Vec z = sigmoid_vec(get(cell.gz, j, m));
    Vec pre = get(cell.gh, j, m);
    if (cell.rh) pre += sigmoid_vec(get(cell.gr, j, m)) * get(cell.rh, j, m);
    const Vec hh = tanh_vec(pre);
    const Vec h = (1.0f - z) * hh + z * get(cell.h_prev, j, m);
    put(cell.h, j, h, m);
    if (cell.y) put(cell.y, j, h, m);
  }
}

DJ_RNN_TARGET void gru_reset(const float* r, const float* h, float* out, int64_t n) {
  for (int64_t j = 0; j < n; j += kLanes) {
    const int64_t m = n - j < kLanes ? n - j : kLanes;
    put(out, j, sigmoid_vec(get(r, j, m)) * get(h, j, m), m);
  }
}

// ---- the panel product -------------------------------------------------------

constexpr int max_rows(int nv) {
  const int r = kAccRegs / nv;
  return r < 1 ? 1 : r > 8 ? 8 : r;
}
// Interleaved partial sums: enough independent accumulators to cover FMA latency.
constexpr int depth_split(int acc) {
  int s = 1;
  while (acc * s < 8 && acc * s * 2 <= kAccRegs) s *= 2;
  return s;
}

// out_j[i * ldc + l] += sum_k a[i * lda + k] * b[k * b_stride + j * kLanes + l] for
// k < kc, i < MR, j < NV, lanes l < valid[j]. Not inlined, so that the accumulators
// get all the registers (as in GemmMicroKernel.h).
template <int MR, int NV>
DJ_RNN_TARGET __attribute__((noinline)) void tile(int64_t kc, const float* __restrict a, int64_t lda,
                                                  const float* __restrict b, int64_t b_stride, float* const* out,
                                                  int64_t ldc, const int* valid) {
  constexpr int S = depth_split(MR * NV);
  Vec acc[S][MR][NV];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[s][i][j] = Vec{};
  int64_t k = 0;
  for (; k + S <= kc; k += S) {
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const Vec* bv = reinterpret_cast<const Vec*>(b + (k + s) * b_stride);
      if constexpr (MR <= 2) {
        // Few rows: the product streams the panel from L3 as fast as it can load;
        // the hardware prefetcher alone left a fifth of a one-row product on the table.
#pragma GCC unroll 4
        for (int j = 0; j < NV * kLanes; j += 16) __builtin_prefetch(b + (k + s) * b_stride + kPrefetchFloats + j);
      }
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const float ai = a[i * lda + k + s];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[s][i][j] += bv[j] * ai;
      }
    }
  }
  for (; k < kc; ++k) {
    const Vec* bv = reinterpret_cast<const Vec*>(b + k * b_stride);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i * lda + k];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[0][i][j] += bv[j] * ai;
    }
  }
#pragma GCC unroll 8
  for (int s = 1; s < S; ++s)
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[0][i][j] += acc[s][i][j];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      float* o = out[j] + i * ldc;
      if (valid[j] == kLanes) {
        store(o, load(o) + acc[0][i][j]);
      } else {
        for (int l = 0; l < valid[j]; ++l) o[l] += acc[0][i][j][l];
      }
    }
  }
}

// tile<MR, NV> for a row count known only at run time (1 <= mr <= max_rows(NV)).
template <int NV, int MR = 1>
DJ_RNN_TARGET inline void tile_rows(int mr, int64_t kc, const float* a, int64_t lda, const float* b,
                                    int64_t b_stride, float* const* out, int64_t ldc, const int* valid) {
  if constexpr (MR < max_rows(NV)) {
    if (mr != MR) return tile_rows<NV, MR + 1>(mr, kc, a, lda, b, b_stride, out, ldc, valid);
  }
  tile<MR, NV>(kc, a, lda, b, b_stride, out, ldc, valid);
}

template <int NV>
DJ_RNN_TARGET void panel_product_nv(const dj::RnnPanelCall& c) {
  constexpr int kMaxRows = max_rows(NV);
  // Row groups of nearly equal size (8 rows with 6 at most: 4 + 4, not 6 + 2).
  const int64_t groups = (c.rows + kMaxRows - 1) / kMaxRows;
  const int64_t base = c.rows / groups, extra = c.rows % groups;
  // Several groups read the same panel: in depth blocks that stay in L2.
  int64_t kc = c.depth;
  if (groups > 1) {
    kc = kSharedPanelBytes / (c.row_floats * 4);
    if (kc < 16) kc = 16;
  }
  for (int64_t p = 0; p < c.panel_count; ++p) {
    const float* panel = c.panels + p * c.panel_floats + c.first_vec * kLanes;
    const int64_t unit0 = p * c.units_per_panel;
    float* out[NV];
    int valid[NV];
    for (int j = 0; j < NV; ++j) {
      out[j] = c.out[j] + unit0;
      const int64_t first_unit = unit0 + ((c.first_vec + j) % c.unit_vecs) * kLanes;
      const int64_t v = c.valid_units - first_unit;
      valid[j] = static_cast<int>(v < 0 ? 0 : v > kLanes ? kLanes : v);
    }
    for (int64_t k0 = 0; k0 < c.depth; k0 += kc) {
      const int64_t kb = c.depth - k0 < kc ? c.depth - k0 : kc;
      int64_t r0 = 0;
      for (int64_t g = 0; g < groups; ++g) {
        const int mr = static_cast<int>(base + (g < extra ? 1 : 0));
        float* out_rows[NV];
        for (int j = 0; j < NV; ++j) out_rows[j] = out[j] + r0 * c.ldc;
        tile_rows<NV>(mr, kb, c.a + r0 * c.lda + k0, c.lda, panel + k0 * c.row_floats, c.row_floats, out_rows, c.ldc,
                      valid);
        r0 += mr;
      }
    }
  }
}

DJ_RNN_TARGET void panel_product(const dj::RnnPanelCall& c) {
  if (c.rows <= 0 || c.panel_count <= 0) return;
  switch (c.vecs) {
    case 1: return panel_product_nv<1>(c);
    case 2: return panel_product_nv<2>(c);
    case 3: return panel_product_nv<3>(c);
    default: return panel_product_nv<4>(c);
  }
}

dj::RnnIsaKernels dj_rnn_kernels_table(const char* name) {
  dj::RnnIsaKernels k;
  k.name = name;
  k.lanes = kLanes;
  k.panel_product = &panel_product;
  k.sigmoid = &sigmoid_span;
  k.tanh = &tanh_span;
  k.lstm_cell = &lstm_cell;
  k.gru_cell = &gru_cell;
  k.gru_reset = &gru_reset;
  return k;
}

}  // namespace
