// RnnMatmul: the matrix product of the recurrent ops' f64 path,
//   out[M, N] += A[M, K] * Bt[K, N]      (row-major, explicit leading dimensions)
// where Bt is a weight matrix transposed once per weight tensor (W^T, R^T), so the
// innermost loop runs along a contiguous output row and vectorizes without
// -ffast-math. (f32 reads weights packed in unit panels instead: RnnGateProduct.h.)
//
// 4 rows of A share each loaded row of Bt, and N is cut into chunks that keep the 4
// output row chunks in L1; large products run TBB-parallel over (row block, column
// chunk) tiles, each tile written by exactly one task. Every element is summed over
// k in order, starting from its value in `out`, whatever the tiling.
#pragma once

#include <algorithm>
#include <cstdint>

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

namespace dj {

namespace rnn_matmul_detail {

constexpr int64_t kRows = 4;
constexpr int64_t kCols = 256;

template <typename C>
void tile(const C* __restrict a, int64_t lda, const C* __restrict bt, int64_t ldb, C* __restrict out,
          int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k) {
  const int64_t nb = n1 - n0;
  int64_t m = m0;
  for (; m + kRows <= m1; m += kRows) {
    C* __restrict o0 = out + m * ldc + n0;
    C* __restrict o1 = o0 + ldc;
    C* __restrict o2 = o1 + ldc;
    C* __restrict o3 = o2 + ldc;
    const C* a0 = a + m * lda;
    for (int64_t kk = 0; kk < k; ++kk) {
      const C* __restrict b = bt + kk * ldb + n0;
      const C x0 = a0[kk], x1 = a0[lda + kk], x2 = a0[2 * lda + kk], x3 = a0[3 * lda + kk];
      for (int64_t j = 0; j < nb; ++j) {
        const C bj = b[j];
        o0[j] += x0 * bj;
        o1[j] += x1 * bj;
        o2[j] += x2 * bj;
        o3[j] += x3 * bj;
      }
    }
  }
  for (; m < m1; ++m) {
    C* __restrict o = out + m * ldc + n0;
    const C* ar = a + m * lda;
    for (int64_t kk = 0; kk < k; ++kk) {
      const C* __restrict b = bt + kk * ldb + n0;
      const C x = ar[kk];
      for (int64_t j = 0; j < nb; ++j) o[j] += x * b[j];
    }
  }
}

}  // namespace rnn_matmul_detail

template <typename C>
void rnn_matmul_accumulate(const C* a, int64_t lda, const C* bt, int64_t ldb, C* out, int64_t ldc, int64_t m,
                           int64_t k, int64_t n) {
  using namespace rnn_matmul_detail;
  if (m <= 0 || n <= 0 || k <= 0) return;
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (work < double(1 << 18)) {
    for (int64_t n0 = 0; n0 < n; n0 += kCols) tile(a, lda, bt, ldb, out, ldc, 0, m, n0, std::min(n, n0 + kCols), k);
    return;
  }
  const int64_t row_blocks = (m + kRows - 1) / kRows;
  const int64_t col_blocks = (n + kCols - 1) / kCols;
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, row_blocks, 0, col_blocks), [&](const auto& r) {
    for (int64_t rb = r.rows().begin(); rb < r.rows().end(); ++rb)
      for (int64_t cb = r.cols().begin(); cb < r.cols().end(); ++cb)
        tile(a, lda, bt, ldb, out, ldc, rb * kRows, std::min(m, (rb + 1) * kRows), cb * kCols,
             std::min(n, (cb + 1) * kCols), k);
  });
}

}  // namespace dj
