// The blocked, packed, parallel f32 GEMM driver (see GemmKernel.h for the contract).
//
// Invariants: the summation order of every C element depends only on (M, N, K, the
// strides' unit-ness and the ISA table), never on the number of threads: K is cut
// into fixed KC blocks summed in order, and tiling over M and N only decides who
// computes an element, not how.
#include "runtime/ops/GemmKernel.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "runtime/Tensor.h"

namespace dj {
namespace {

constexpr int64_t kKC = 256;        // depth of one packed block (B micro-panel stays in L1)
constexpr int64_t kMCTarget = 144;  // rows of a C tile (packed A block ~144 KiB, in L2)
constexpr int64_t kNCTarget = 512;  // columns of a C tile (packed B block ~512 KiB)
constexpr double kParallelFlops = 1 << 20;  // below this a product runs on one thread

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t ceil_div(int64_t x, int64_t m) { return (x + m - 1) / m; }

// Per-thread packing buffers, grown on demand and reused across calls.
struct PackBuffer {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data;
  size_t capacity = 0;  // floats

  float* get(size_t floats) {
    if (floats > capacity) {
      size_t bytes = round_up(static_cast<int64_t>(floats * sizeof(float)), 64);
      float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw AllocationError("GEMM packing buffer of " + std::to_string(bytes) + " bytes");
      data.reset(p);
      capacity = floats;
    }
    return data.get();
  }
};
thread_local PackBuffer t_pack_a;
thread_local PackBuffer t_pack_b;

#if defined(__SSE2__)
// A whole MR-row panel of row-major A by 4x4 transposes, so that both the row reads
// and the panel writes are 16-byte vectors (the scalar scatter below was 28% of the
// GEMM time on BERT's activations). False where MR is not a multiple of 4.
template <int MR>
bool pack_a_rows_transposed(const float* src, int64_t rs, int64_t kc, float* panel) {
  if constexpr (MR % 4 != 0) {
    return false;
  } else {
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4)
      for (int i = 0; i < MR; i += 4) {
        __m128 r0 = _mm_loadu_ps(src + (i + 0) * rs + k);
        __m128 r1 = _mm_loadu_ps(src + (i + 1) * rs + k);
        __m128 r2 = _mm_loadu_ps(src + (i + 2) * rs + k);
        __m128 r3 = _mm_loadu_ps(src + (i + 3) * rs + k);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(panel + (k + 0) * MR + i, r0);
        _mm_storeu_ps(panel + (k + 1) * MR + i, r1);
        _mm_storeu_ps(panel + (k + 2) * MR + i, r2);
        _mm_storeu_ps(panel + (k + 3) * MR + i, r3);
      }
    for (; k < kc; ++k)
      for (int i = 0; i < MR; ++i) panel[k * MR + i] = src[i * rs + k];
    return true;
  }
}
#else
template <int MR>
bool pack_a_rows_transposed(const float*, int64_t, int64_t, float*) {
  return false;
}
#endif

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of A into MR-row panels (zero-padded).
template <int MR>
void pack_a_panels(const float* a, int64_t rs, int64_t cs, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                   float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    float* panel = dst + (ip / MR) * kc * MR;
    const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ip));
    if (cs == 1 && rows == MR && pack_a_rows_transposed<MR>(a + (i0 + ip) * rs + p0, rs, kc, panel)) continue;
    if (cs == 1) {
      for (int i = 0; i < rows; ++i) {
        const float* src = a + (i0 + ip + i) * rs + p0;
        for (int64_t k = 0; k < kc; ++k) panel[k * MR + i] = src[k];
      }
      for (int i = rows; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) panel[k * MR + i] = 0.0f;
    } else {
      const float* src = a + (i0 + ip) * rs + p0 * cs;
      for (int64_t k = 0; k < kc; ++k) {
        const float* col = src + k * cs;
        float* out = panel + k * MR;
        for (int i = 0; i < rows; ++i) out[i] = col[i * rs];
        for (int i = rows; i < MR; ++i) out[i] = 0.0f;
      }
    }
  }
}

// Packs depth [p0, p0+kc) x columns [j0, j0+nc) of B into NR-column panels (zero-padded).
template <int NR>
void pack_b_panels(const float* b, int64_t rs, int64_t cs, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                   float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    float* panel = dst + (jp / NR) * kc * NR;
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jp));
    if (cs == 1) {
      const float* src = b + p0 * rs + j0 + jp;
      for (int64_t k = 0; k < kc; ++k) {
        float* out = panel + k * NR;
        const float* row = src + k * rs;
        if (cols == NR) {
          std::memcpy(out, row, NR * sizeof(float));
        } else {
          for (int j = 0; j < cols; ++j) out[j] = row[j];
          for (int j = cols; j < NR; ++j) out[j] = 0.0f;
        }
      }
    } else {
      for (int j = 0; j < cols; ++j) {
        const float* src = b + p0 * rs + (j0 + jp + j) * cs;
        for (int64_t k = 0; k < kc; ++k) panel[k * NR + j] = src[k * rs];
      }
      for (int j = cols; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) panel[k * NR + j] = 0.0f;
    }
  }
}

using PackAFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
using PackBFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);

PackAFn pack_a_for(int mr) {
  switch (mr) {
    case 4: return &pack_a_panels<4>;
    case 6: return &pack_a_panels<6>;
    case 8: return &pack_a_panels<8>;
    case 12: return &pack_a_panels<12>;
    case 14: return &pack_a_panels<14>;
    case 16: return &pack_a_panels<16>;
    default: return nullptr;
  }
}
PackBFn pack_b_for(int nr) {
  switch (nr) {
    case 8: return &pack_b_panels<8>;
    case 16: return &pack_b_panels<16>;
    case 32: return &pack_b_panels<32>;
    case 48: return &pack_b_panels<48>;
    case 64: return &pack_b_panels<64>;
    default: return nullptr;
  }
}

struct Problem {
  int64_t M, N, K;
  float alpha, beta;
  MatrixRef a, b;
  const int64_t *a_off, *b_off, *c_off;
  float* c;
  int64_t ldc;
  const PackedGemmB* packed_b = nullptr;  // B's panels made ahead (same B for every batch)
  const PackedGemmA* packed_a = nullptr;  // A's panels made ahead (same A for every batch)

  const float* a_at(int64_t bi) const { return a.data + (a_off ? a_off[bi] : 0); }
  const float* b_at(int64_t bi) const { return b.data + (b_off ? b_off[bi] : 0); }
  float* c_at(int64_t bi) const { return c + (c_off ? c_off[bi] : 0); }
};

// C = beta * C over rows [r0, r1) (the whole product when K == 0).
void scale_rows(const Problem& p, float* c, int64_t r0, int64_t r1) {
  for (int64_t i = r0; i < r1; ++i) {
    float* row = c + i * p.ldc;
    if (p.beta == 0.0f) std::fill(row, row + p.N, 0.0f);
    else for (int64_t j = 0; j < p.N; ++j) row[j] *= p.beta;
  }
}

// Blocking of one packed product: C tiles of mc x nc, K in blocks of kKC.
struct Blocking {
  const GemmIsaKernels* isa;
  PackAFn pack_a;
  PackBFn pack_b;
  int64_t mc, nc;
};

// One batch, GotoBLAS loop order: for each nc-wide column block and kc-deep slice,
// B is packed once and reused by every mc-row block of A. With `parallel`, the
// row blocks (split further by columns when there are too few) run as TBB tasks
// sharing the packed B; otherwise everything runs here on this thread's buffers.
void run_packed_batch(const Blocking& bk, const Problem& p, int64_t bi, bool parallel, int threads) {
  const GemmIsaKernels& isa = *bk.isa;
  const float* a = p.a_at(bi);
  const float* b = p.b_at(bi);
  float* c = p.c_at(bi);
  const int64_t kc_max = std::min(kKC, p.K);
  const int64_t m_blocks = ceil_div(p.M, bk.mc);

  std::unique_ptr<float, PackBuffer::Free> shared_b;
  float* pb = nullptr;
  if (p.packed_b) {
    // Nothing to pack: read_b below points into the panels made ahead.
  } else if (parallel) {
    const size_t bytes = static_cast<size_t>(round_up(round_up(bk.nc, isa.nr) * kc_max * 4, 64));
    shared_b.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!shared_b) throw AllocationError("GEMM packing buffer of " + std::to_string(bytes) + " bytes");
    pb = shared_b.get();
  } else {
    pb = t_pack_b.get(static_cast<size_t>(round_up(bk.nc, isa.nr) * kc_max));
  }

  for (int64_t j0 = 0; j0 < p.N; j0 += bk.nc) {
    const int64_t nc = std::min(bk.nc, p.N - j0);
    // Column sub-blocks per row block, so that there are tasks for every thread.
    int64_t n_split = 1;
    if (parallel)
      while (m_blocks * n_split < 2 * threads && nc / (n_split * 2) >= 2 * isa.nr) n_split *= 2;
    const int64_t sub_nc = round_up(ceil_div(nc, n_split), isa.nr);
    n_split = ceil_div(nc, sub_nc);

    for (int64_t p0 = 0; p0 < p.K; p0 += kKC) {
      const int64_t kc = std::min(kKC, p.K - p0);
      const bool accumulate = p0 > 0;
      const float* read_b = p.packed_b ? p.packed_b->block(j0, p0) : pb;
      auto pack_b_columns = [&](int64_t js, int64_t je) {  // js, je: multiples of NR within the block
        bk.pack_b(b, p.b.row_stride, p.b.col_stride, p0, kc, j0 + js, std::min(je, nc) - js, pb + (js / isa.nr) * kc * isa.nr);
      };
      auto block = [&](int64_t t) {
        const int64_t mb = t / n_split, ns = t % n_split;
        const int64_t i0 = mb * bk.mc, mc = std::min(bk.mc, p.M - i0);
        const int64_t js = ns * sub_nc, n = std::min(sub_nc, nc - js);
        const float* pa = p.packed_a ? p.packed_a->block(i0, p0) : nullptr;
        if (!pa) {
          float* into = t_pack_a.get(static_cast<size_t>(round_up(mc, isa.mr) * kc));
          bk.pack_a(a, p.a.row_stride, p.a.col_stride, i0, mc, p0, kc, into);
          pa = into;
        }
        isa.packed_block(mc, n, kc, pa, read_b + (js / isa.nr) * kc * isa.nr, c + i0 * p.ldc + j0 + js, p.ldc,
                         p.alpha, p.beta, accumulate);
      };
      if (!parallel) {
        if (!p.packed_b) pack_b_columns(0, nc);
        for (int64_t t = 0; t < m_blocks; ++t) block(t);
        continue;
      }
      if (!p.packed_b) {  // the tasks share one packed B: pack it first, in panel groups
        const int64_t panels = ceil_div(nc, isa.nr);
        const int64_t panels_per_task = std::max<int64_t>(1, ceil_div(panels, 2 * threads));
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, ceil_div(panels, panels_per_task), 1),
                          [&](const tbb::blocked_range<int64_t>& r) {
                            for (int64_t t = r.begin(); t != r.end(); ++t)
                              pack_b_columns(t * panels_per_task * isa.nr, (t + 1) * panels_per_task * isa.nr);
                          });
      }
      // Each task packs its own row block of A: sharing one packed A between the
      // n_split tasks of a row block measured 5-15% slower (one more barrier per K
      // slice, and half the panels then sit in the other core's L2).
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, m_blocks * n_split, 1),
                        [&](const tbb::blocked_range<int64_t>& r) {
                          for (int64_t t = r.begin(); t != r.end(); ++t) block(t);
                        });
    }
  }
}

// Columns [j0, j1) of rows [r0, r1): each C row from one gemv_row (sums in registers
// over all of K). Needs B rows contiguous.
void run_gemv_rows(const GemmIsaKernels& isa, const Problem& p, int64_t bi, int64_t r0, int64_t r1, int64_t j0,
                   int64_t j1) {
  const float* a = p.a_at(bi);
  const float* b = p.b_at(bi);
  float* c = p.c_at(bi);
  for (int64_t i = r0; i < r1; ++i)
    isa.gemv_row(a + i * p.a.row_stride, p.a.col_stride, b + j0, p.b.row_stride, p.K, c + i * p.ldc + j0, j1 - j0,
                 p.alpha, p.beta);
}

// Elements (i, j) for i in [r0, r1), j in [j0, j1) as dot products. Needs A rows and B
// columns contiguous.
void run_dots(const GemmIsaKernels& isa, const Problem& p, int64_t bi, int64_t r0, int64_t r1, int64_t j0,
              int64_t j1) {
  const float* a = p.a_at(bi);
  const float* b = p.b_at(bi);
  float* c = p.c_at(bi);
  for (int64_t i = r0; i < r1; ++i) {
    const float* arow = a + i * p.a.row_stride;
    float* crow = c + i * p.ldc;
    for (int64_t j = j0; j < j1; ++j) {
      float v = p.alpha * isa.dot(arow, b + j * p.b.col_stride, p.K);
      crow[j] = p.beta == 0.0f ? v : v + p.beta * crow[j];
    }
  }
}

enum class Path { Packed, GemvRows, Dots };

Path choose_path(const GemmIsaKernels& isa, const Problem& p) {
  const bool b_rows_contiguous = p.b.col_stride == 1 || p.N == 1;
  const bool a_rows_contiguous = p.a.col_stride == 1 || p.K == 1;
  const bool b_cols_contiguous = p.b.row_stride == 1 || p.K == 1;
  // A handful of rows: packing B would cost as much as the product itself.
  if (p.M * 2 < isa.mr && b_rows_contiguous) return Path::GemvRows;
  if ((p.M * 2 < isa.mr || p.N * 4 < isa.nr) && a_rows_contiguous && b_cols_contiguous) return Path::Dots;
  return Path::Packed;
}

template <typename Body>
void for_each_task(bool parallel, int64_t tasks, const Body& body) {
  if (!parallel || tasks == 1) {
    for (int64_t t = 0; t < tasks; ++t) body(t);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, tasks, 1), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t t = r.begin(); t != r.end(); ++t) body(t);
  });
}

}  // namespace

void gemm_f32_batched_with(const GemmIsaKernels& isa, bool parallel, int64_t batch, int64_t M, int64_t N, int64_t K,
                           float alpha, MatrixRef a, const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets,
                           float beta, float* c, int64_t ldc, const int64_t* c_offsets, const PackedGemmB* packed,
                           const PackedGemmA* packed_a) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  // Panels made ahead serve only the table, shape and blocking they were made for.
  if (packed && (packed->isa() != &isa || packed->k() != K || packed->n() != N || b_offsets)) packed = nullptr;
  if (packed_a && (packed_a->isa() != &isa || packed_a->m() != M || packed_a->k() != K || a_offsets)) packed_a = nullptr;
  const Problem p{M, N, K, alpha, beta, a, b, a_offsets, b_offsets, c_offsets, c, ldc, packed, packed_a};
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(std::max<int64_t>(K, 1)) *
                       static_cast<double>(batch);
  const int threads = parallel ? tbb::this_task_arena::max_concurrency() : 1;
  parallel = parallel && threads > 1 && flops >= kParallelFlops;

  if (K == 0) {
    for_each_task(parallel, batch, [&](int64_t bi) { scale_rows(p, p.c_at(bi), 0, M); });
    return;
  }

  const Path path = choose_path(isa, p);
  if (path != Path::Packed) {
    // Split columns (and rows for the dot path) into chunks worth a thread each.
    const int64_t col_chunk = parallel ? std::max<int64_t>(64, round_up(ceil_div(N, 4 * threads), 16)) : N;
    const int64_t col_tasks = ceil_div(N, col_chunk);
    const int64_t row_chunk = (path == Path::Dots && parallel) ? std::max<int64_t>(1, ceil_div(M, 4 * threads)) : M;
    const int64_t row_tasks = ceil_div(M, row_chunk);
    for_each_task(parallel, batch * row_tasks * col_tasks, [&](int64_t t) {
      const int64_t bi = t / (row_tasks * col_tasks);
      const int64_t rt = (t / col_tasks) % row_tasks;
      const int64_t ct = t % col_tasks;
      const int64_t r0 = rt * row_chunk, r1 = std::min(M, r0 + row_chunk);
      const int64_t j0 = ct * col_chunk, j1 = std::min(N, j0 + col_chunk);
      if (path == Path::GemvRows) run_gemv_rows(isa, p, bi, r0, r1, j0, j1);
      else run_dots(isa, p, bi, r0, r1, j0, j1);
    });
    return;
  }

  Blocking bk{&isa, pack_a_for(isa.mr), pack_b_for(isa.nr), round_up(kMCTarget, isa.mr),
              round_up(kNCTarget, isa.nr)};
  if (parallel && batch < 2 * threads && !packed_a && M > bk.mc && M < threads * bk.mc) {
    // More than one row block but fewer than one per thread: equal row blocks, one
    // per thread (M = 200 on 2 threads was 144 + 56 rows; 104 + 96 measured 10-25%
    // faster). Below one block, splitting the columns measured better than this.
    bk.mc = round_up(ceil_div(M, threads), isa.mr);
  }
  if (!parallel || batch >= 2 * threads) {
    // Enough batches to go round (or one thread): whole batches per task.
    for_each_task(parallel, batch, [&](int64_t bi) { run_packed_batch(bk, p, bi, false, 1); });
  } else {
    for (int64_t bi = 0; bi < batch; ++bi) run_packed_batch(bk, p, bi, true, threads);
  }
}

void gemm_f32_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a,
                      const int64_t* a_offsets, MatrixRef b, const int64_t* b_offsets, float beta, float* c,
                      int64_t ldc, const int64_t* c_offsets) {
  gemm_f32_batched_with(gemm_isa_kernels(), true, batch, M, N, K, alpha, a, a_offsets, b, b_offsets, beta, c, ldc,
                        c_offsets, nullptr);
}

void gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, MatrixRef a, MatrixRef b, float beta, float* c,
              int64_t ldc, const PackedGemmB* packed) {
  gemm_f32_batched_with(gemm_isa_kernels(), true, 1, M, N, K, alpha, a, nullptr, b, nullptr, beta, c, ldc, nullptr,
                        packed);
}

void PackedGemmPanels::Free::operator()(float* p) const { std::free(p); }

const float* PackedGemmPanels::block(int64_t outer0, int64_t p0) const {
  return data_.get() + ((outer0 / outer_block_) * k_blocks_ + p0 / kKC) * block_floats_;
}

void PackedGemmPanels::allocate(const GemmIsaKernels& isa, int64_t outer, int64_t K, int64_t outer_block) {
  isa_ = &isa;
  outer_ = outer;
  k_ = K;
  outer_block_ = outer_block;
  k_blocks_ = std::max<int64_t>(1, ceil_div(K, kKC));
  block_floats_ = outer_block * std::min(kKC, std::max<int64_t>(K, 1));
  floats_ = static_cast<size_t>(ceil_div(outer, outer_block) * k_blocks_ * block_floats_);
  const size_t bytes = static_cast<size_t>(round_up(static_cast<int64_t>(floats_ * sizeof(float)), 64));
  float* data = static_cast<float*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64)));
  if (!data) throw AllocationError("packed GEMM weights of " + std::to_string(bytes) + " bytes");
  data_.reset(data);
}

std::shared_ptr<const PackedGemmA> pack_gemm_a(const GemmIsaKernels& isa, int64_t M, int64_t K, MatrixRef a) {
  auto packed = std::make_shared<PackedGemmA>();
  const int64_t mc = round_up(kMCTarget, isa.mr);  // the driver's Blocking::mc
  packed->allocate(isa, M, K, mc);
  const PackAFn pack = pack_a_for(isa.mr);
  for (int64_t i0 = 0; i0 < M; i0 += mc)
    for (int64_t p0 = 0; p0 < K; p0 += kKC)
      pack(a.data, a.row_stride, a.col_stride, i0, std::min(mc, M - i0), p0, std::min(kKC, K - p0),
           packed->mutable_block(i0, p0));
  return packed;
}

std::shared_ptr<const PackedGemmB> pack_gemm_b(const GemmIsaKernels& isa, int64_t K, int64_t N, MatrixRef b) {
  auto packed = std::make_shared<PackedGemmB>();
  const int64_t nc = round_up(kNCTarget, isa.nr);  // the driver's Blocking::nc
  packed->allocate(isa, N, K, nc);
  const PackBFn pack = pack_b_for(isa.nr);
  for (int64_t j0 = 0; j0 < N; j0 += nc)
    for (int64_t p0 = 0; p0 < K; p0 += kKC)
      pack(b.data, b.row_stride, b.col_stride, p0, std::min(kKC, K - p0), j0, std::min(nc, N - j0),
           packed->mutable_block(j0, p0));
  return packed;
}

}  // namespace dj
