// Batched matrix product for every numeric dtype (see LinalgBatchedMatMul.h).
#include "runtime/ops/LinalgBatchedMatMul.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <type_traits>
#include <vector>

#include "runtime/ops/Broadcast.h"
#include "runtime/ops/GemmKernel.h"
#include "runtime/ops/GemmWeightCache.h"

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

// MatMul's operands as matrices: 1-D A is a row [1,K], 1-D B a column [K,1] (and the
// added dim is dropped from the output); leading dims broadcast as batch dims.
struct MatMulLayout {
  Shape a_batch, b_batch, out_batch, out_shape;
  int64_t M = 0, N = 0, K = 0;
};

Expected<MatMulLayout> plan_matmul(const Shape& a_shape, const Shape& b_shape) {
  if (a_shape.empty() || b_shape.empty())
    return make_error(StatusCode::InvalidArgument, "MatMul: operands must have rank >= 1, got ",
                      shape_to_string(a_shape), " and ", shape_to_string(b_shape));
  Shape as = a_shape, bs = b_shape;
  const bool a_vector = as.size() == 1, b_vector = bs.size() == 1;
  if (a_vector) as.insert(as.begin(), 1);
  if (b_vector) bs.push_back(1);
  MatMulLayout l;
  l.M = as[as.size() - 2];
  l.K = as.back();
  l.N = bs.back();
  if (bs[bs.size() - 2] != l.K)
    return make_error(StatusCode::InvalidArgument, "MatMul: inner dimensions differ: A ", shape_to_string(a_shape),
                      " has K=", l.K, ", B ", shape_to_string(b_shape), " has K=", bs[bs.size() - 2]);
  l.a_batch.assign(as.begin(), as.end() - 2);
  l.b_batch.assign(bs.begin(), bs.end() - 2);
  Expected<Shape> batch = broadcast_shapes({l.a_batch, l.b_batch});
  if (!batch.ok())
    return make_error(StatusCode::InvalidArgument, "MatMul: batch dimensions of A ", shape_to_string(a_shape),
                      " and B ", shape_to_string(b_shape), " do not broadcast");
  l.out_batch = *batch;
  l.out_shape = l.out_batch;
  if (!a_vector) l.out_shape.push_back(l.M);
  if (!b_vector) l.out_shape.push_back(l.N);
  return l;
}

// Element offsets of each output batch's matrix inside an operand with batch shape
// `in_batch` (right-aligned, broadcast) and `matrix_size` elements per matrix.
std::vector<int64_t> batch_offsets(const Shape& in_batch, const Shape& out_batch, int64_t matrix_size) {
  const Strides strides = broadcast_strides(in_batch, out_batch);
  const int64_t count = shape_numel(out_batch);
  std::vector<int64_t> offsets(static_cast<size_t>(count));
  std::vector<int64_t> index(out_batch.size(), 0);
  int64_t off = 0;
  for (int64_t b = 0; b < count; ++b) {
    offsets[b] = off * matrix_size;
    for (int d = static_cast<int>(out_batch.size()) - 1; d >= 0; --d) {
      off += strides[d];
      if (++index[d] < out_batch[d]) break;
      off -= strides[d] * index[d];
      index[d] = 0;
    }
  }
  return offsets;
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

Expected<Tensor> numpy_matmul(const Tensor& a, const Tensor& b) {
  DJ_CHECK(a.dtype() == b.dtype(), InvalidArgument, "MatMul: A is ", dtype_name(a.dtype()), " but B is ",
           dtype_name(b.dtype()));
  DJ_ASSIGN_OR_RETURN(MatMulLayout l, plan_matmul(a.shape(), b.shape()));
  Tensor y = Tensor::empty(a.dtype(), l.out_shape);
  if (y.numel() == 0) return y;

  const int64_t b_batch_count = shape_numel(l.b_batch);
  if (b_batch_count == 1) {
    // One B for every batch: A's batches stack into one tall matrix (a Linear layer
    // becomes a single GEMM). Output batches are A's, in A's order.
    const int64_t rows = shape_numel(l.a_batch) * l.M;
    if (a.dtype() == DType::F32 && b.rank() == 2) {
      if (auto packed = packed_gemm_weights(b, false)) {  // a constant weight: packed once
        gemm_f32(rows, l.N, l.K, 1.0f, {a.data<float>(), l.K, 1}, {b.data<float>(), l.N, 1}, 0.0f, y.data<float>(),
                 l.N, packed.get());
        return y;
      }
    }
    DJ_RETURN_IF_ERROR(batched_matmul(a.dtype(), 1, rows, l.N, l.K, {a.raw_data(), l.K, 1, nullptr},
                                      {b.raw_data(), l.N, 1, nullptr}, y.raw_data()));
    return y;
  }
  const std::vector<int64_t> a_off = batch_offsets(l.a_batch, l.out_batch, l.M * l.K);
  const std::vector<int64_t> b_off = batch_offsets(l.b_batch, l.out_batch, l.K * l.N);
  DJ_RETURN_IF_ERROR(batched_matmul(a.dtype(), shape_numel(l.out_batch), l.M, l.N, l.K,
                                    {a.raw_data(), l.K, 1, a_off.data()}, {b.raw_data(), l.N, 1, b_off.data()},
                                    y.raw_data()));
  return y;
}

std::optional<SymShape> numpy_matmul_sym_shape(const std::optional<SymShape>& a_shape,
                                               const std::optional<SymShape>& b_shape) {
  if (!a_shape || !b_shape || a_shape->empty() || b_shape->empty()) return std::nullopt;
  SymShape as = *a_shape, bs = *b_shape;
  const bool a_vector = as.size() == 1, b_vector = bs.size() == 1;
  if (a_vector) as.insert(as.begin(), SymExpr(1));
  if (b_vector) bs.push_back(SymExpr(1));
  std::optional<SymShape> batch =
      broadcast_sym_shapes({SymShape(as.begin(), as.end() - 2), SymShape(bs.begin(), bs.end() - 2)});
  if (!batch) return std::nullopt;
  SymShape out = *batch;
  if (!a_vector) out.push_back(as[as.size() - 2]);
  if (!b_vector) out.push_back(bs.back());
  return out;
}

}  // namespace dj
