// Batched matrix product for every numeric dtype (see LinalgBatchedMatMul.h).
#include "runtime/ops/LinalgBatchedMatMul.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <type_traits>
#include <vector>

#include "runtime/ops/GemmKernel.h"

namespace dj {
namespace {

constexpr int64_t kParallelMacs = 1 << 15;

// The accumulator of the plain loop: double for f64, a 64-bit unsigned for every
// integer type (wraps modulo 2^64, then truncates: the two's complement result of
// the narrow type, without signed-overflow UB).
template <typename T>
using LoopAccumulator = std::conditional_t<std::is_floating_point_v<T>, T, uint64_t>;

template <typename T>
void loop_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, StridedOperand a, StridedOperand b, T* c) {
  using Acc = LoopAccumulator<T>;
  const T* ab = static_cast<const T*>(a.data);
  const T* bb = static_cast<const T*>(b.data);
  auto rows = [&](int64_t r0, int64_t r1) {
    std::vector<Acc> acc(static_cast<size_t>(N));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bi = r / M, i = r % M;
      const T* ar = ab + (a.batch_offsets ? a.batch_offsets[bi] : 0) + i * a.row_stride;
      const T* bm = bb + (b.batch_offsets ? b.batch_offsets[bi] : 0);
      for (int64_t j = 0; j < N; ++j) acc[j] = Acc{};
      for (int64_t k = 0; k < K; ++k) {
        const Acc av = static_cast<Acc>(ar[k * a.col_stride]);
        const T* br = bm + k * b.row_stride;
        if (b.col_stride == 1) {
          for (int64_t j = 0; j < N; ++j) acc[j] += av * static_cast<Acc>(br[j]);
        } else {
          for (int64_t j = 0; j < N; ++j) acc[j] += av * static_cast<Acc>(br[j * b.col_stride]);
        }
      }
      T* cr = c + r * N;
      for (int64_t j = 0; j < N; ++j) cr[j] = static_cast<T>(acc[j]);
    }
  };
  const int64_t total_rows = batch * M;
  if (total_rows * N * K < kParallelMacs) {
    rows(0, total_rows);
  } else {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, total_rows),
                      [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
  }
}

// f16 / bf16: widen each batch's operands to contiguous f32, multiply, round on store.
template <typename T>
void widened_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, StridedOperand a, StridedOperand b, T* c) {
  const T* ab = static_cast<const T*>(a.data);
  const T* bb = static_cast<const T*>(b.data);
  std::vector<float> af(static_cast<size_t>(batch * M * K)), bf(static_cast<size_t>(batch * K * N)),
      cf(static_cast<size_t>(batch * M * N));
  for (int64_t bi = 0; bi < batch; ++bi) {
    const T* am = ab + (a.batch_offsets ? a.batch_offsets[bi] : 0);
    const T* bm = bb + (b.batch_offsets ? b.batch_offsets[bi] : 0);
    float* ad = af.data() + bi * M * K;
    float* bd = bf.data() + bi * K * N;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = 0; k < K; ++k) ad[i * K + k] = static_cast<float>(am[i * a.row_stride + k * a.col_stride]);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) bd[k * N + j] = static_cast<float>(bm[k * b.row_stride + j * b.col_stride]);
  }
  std::vector<int64_t> a_off(static_cast<size_t>(batch)), b_off(static_cast<size_t>(batch)),
      c_off(static_cast<size_t>(batch));
  for (int64_t bi = 0; bi < batch; ++bi) {
    a_off[bi] = bi * M * K;
    b_off[bi] = bi * K * N;
    c_off[bi] = bi * M * N;
  }
  gemm_f32_batched(batch, M, N, K, 1.0f, {af.data(), K, 1}, a_off.data(), {bf.data(), N, 1}, b_off.data(), 0.0f,
                   cf.data(), N, c_off.data());
  for (size_t i = 0; i < cf.size(); ++i) c[i] = T(cf[i]);
}

}  // namespace

Status batched_matmul(DType dtype, int64_t batch, int64_t M, int64_t N, int64_t K, StridedOperand a,
                      StridedOperand b, void* c) {
  if (batch <= 0 || M <= 0 || N <= 0) return Status::ok_status();
  if (dtype == DType::F32) {
    std::vector<int64_t> c_off;
    if (batch > 1) {
      c_off.resize(static_cast<size_t>(batch));
      for (int64_t bi = 0; bi < batch; ++bi) c_off[bi] = bi * M * N;
    }
    gemm_f32_batched(batch, M, N, K, 1.0f, {static_cast<const float*>(a.data), a.row_stride, a.col_stride},
                     a.batch_offsets, {static_cast<const float*>(b.data), b.row_stride, b.col_stride},
                     b.batch_offsets, 0.0f, static_cast<float*>(c), N, batch > 1 ? c_off.data() : nullptr);
    return Status::ok_status();
  }
  bool done = dispatch_dtype(dtype, NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      widened_matmul<T>(batch, M, N, K, a, b, static_cast<T*>(c));
    } else {
      loop_matmul<T>(batch, M, N, K, a, b, static_cast<T*>(c));
    }
  });
  if (!done) return make_error(StatusCode::Unsupported, "matrix product of ", dtype_name(dtype), " is not supported");
  return Status::ok_status();
}

}  // namespace dj
