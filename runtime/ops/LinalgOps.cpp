// The linear-algebra op family: MatMul (numpy semantics), Gemm, Einsum
// (LinalgEinsum.cpp). Every product runs through batched_matmul
// (LinalgBatchedMatMul.h), so f32 always reaches the blocked GEMM.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/Broadcast.h"
#include "runtime/ops/GemmKernel.h"
#include "runtime/ops/LinalgBatchedMatMul.h"
#include "runtime/ops/LinalgEinsum.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {
namespace {

// ---------------------------------------------------------------- MatMul

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

Status matmul_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  DJ_CHECK(a.dtype() == b.dtype(), InvalidArgument, "MatMul: A is ", dtype_name(a.dtype()), " but B is ",
           dtype_name(b.dtype()));
  DJ_ASSIGN_OR_RETURN(MatMulLayout l, plan_matmul(a.shape(), b.shape()));
  Tensor& y = ctx.allocate_output(0, a.dtype(), l.out_shape);
  if (y.numel() == 0) return Status::ok_status();

  const int64_t b_batch_count = shape_numel(l.b_batch);
  if (b_batch_count == 1) {
    // One B for every batch: A's batches stack into one tall matrix (a Linear layer
    // becomes a single GEMM). Output batches are A's, in A's order.
    const int64_t rows = shape_numel(l.a_batch) * l.M;
    return batched_matmul(a.dtype(), 1, rows, l.N, l.K, {a.raw_data(), l.K, 1, nullptr},
                          {b.raw_data(), l.N, 1, nullptr}, y.raw_data());
  }
  const std::vector<int64_t> a_off = batch_offsets(l.a_batch, l.out_batch, l.M * l.K);
  const std::vector<int64_t> b_off = batch_offsets(l.b_batch, l.out_batch, l.K * l.N);
  return batched_matmul(a.dtype(), shape_numel(l.out_batch), l.M, l.N, l.K, {a.raw_data(), l.K, 1, a_off.data()},
                        {b.raw_data(), l.N, 1, b_off.data()}, y.raw_data());
}

Status matmul_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& as_opt = ctx.input_shape(0);
  const auto& bs_opt = ctx.input_shape(1);
  if (!as_opt || !bs_opt || as_opt->empty() || bs_opt->empty()) return Status::ok_status();
  SymShape as = *as_opt, bs = *bs_opt;
  const bool a_vector = as.size() == 1, b_vector = bs.size() == 1;
  if (a_vector) as.insert(as.begin(), SymExpr(1));
  if (b_vector) bs.push_back(SymExpr(1));
  std::optional<SymShape> batch = broadcast_sym_shapes(
      {SymShape(as.begin(), as.end() - 2), SymShape(bs.begin(), bs.end() - 2)});
  if (!batch) return Status::ok_status();
  SymShape out = *batch;
  if (!a_vector) out.push_back(as[as.size() - 2]);
  if (!b_vector) out.push_back(bs.back());
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

// ---------------------------------------------------------------- Gemm

// Y = alpha * op(A) * op(B) + beta * C, C broadcast (unidirectionally) to [M, N].
Status gemm_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Node& node = ctx.node();
  DJ_CHECK(a.rank() == 2 && b.rank() == 2, InvalidArgument, "Gemm: A and B must be 2-D, got ", a.describe(),
           " and ", b.describe());
  DJ_CHECK(a.dtype() == b.dtype(), InvalidArgument, "Gemm: A is ", dtype_name(a.dtype()), " but B is ",
           dtype_name(b.dtype()));
  const bool trans_a = node.attr_int("transA", 0) != 0;
  const bool trans_b = node.attr_int("transB", 0) != 0;
  const float alpha = node.attr_float("alpha", 1.0f);
  float beta = node.attr_float("beta", 1.0f);
  const int64_t M = trans_a ? a.dim(1) : a.dim(0);
  const int64_t K = trans_a ? a.dim(0) : a.dim(1);
  const int64_t Kb = trans_b ? b.dim(1) : b.dim(0);
  const int64_t N = trans_b ? b.dim(0) : b.dim(1);
  DJ_CHECK(K == Kb, InvalidArgument, "Gemm: inner dimensions differ: op(A) is ", M, "x", K, ", op(B) is ", Kb, "x",
           N, " (transA=", trans_a, ", transB=", trans_b, ")");
  const Shape out_shape{M, N};
  const bool has_c = ctx.has_input(2) && beta != 0.0f;
  Strides c_strides;
  if (has_c) {
    const Tensor& c = ctx.input(2);
    DJ_CHECK(c.dtype() == a.dtype(), InvalidArgument, "Gemm: C is ", dtype_name(c.dtype()), " but A is ",
             dtype_name(a.dtype()));
    DJ_CHECK(c.rank() <= 2, InvalidArgument, "Gemm: C must have rank <= 2, got ", c.describe());
    Expected<Shape> bs = broadcast_shapes({c.shape(), out_shape});
    DJ_CHECK(bs.ok() && *bs == out_shape, InvalidArgument, "Gemm: C ", c.describe(),
             " does not broadcast to the output [", M, ",", N, "]");
    c_strides = broadcast_strides(c.shape(), out_shape);
  } else {
    beta = 0.0f;
  }
  Tensor& y = ctx.allocate_output(0, a.dtype(), out_shape);
  if (y.numel() == 0) return Status::ok_status();

  // Element (i, k) of op(A) and (k, j) of op(B).
  const int64_t a_rs = trans_a ? 1 : a.dim(1), a_cs = trans_a ? a.dim(1) : 1;
  const int64_t b_rs = trans_b ? 1 : b.dim(1), b_cs = trans_b ? b.dim(1) : 1;

  if (a.dtype() == DType::F32) {
    float* yd = y.data<float>();
    if (has_c) {
      const float* cd = ctx.input(2).data<float>();
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) yd[i * N + j] = cd[i * c_strides[0] + j * c_strides[1]];
    }
    gemm_f32(M, N, K, alpha, {a.data<float>(), a_rs, a_cs}, {b.data<float>(), b_rs, b_cs}, beta, yd, N);
    return Status::ok_status();
  }
  // Other dtypes: the product, then the epilogue in the compute type.
  DJ_RETURN_IF_ERROR(batched_matmul(a.dtype(), 1, M, N, K, {a.raw_data(), a_rs, a_cs, nullptr},
                                    {b.raw_data(), b_rs, b_cs, nullptr}, y.raw_data()));
  if (alpha == 1.0f && !has_c) return Status::ok_status();
  const Tensor* c = has_c ? &ctx.input(2) : nullptr;
  dispatch_dtype(a.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    using Wide = std::conditional_t<std::is_floating_point_v<C>, C, double>;
    T* yd = y.data<T>();
    const T* cd = c ? c->data<T>() : nullptr;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        Wide v = static_cast<Wide>(alpha) * static_cast<Wide>(static_cast<C>(yd[i * N + j]));
        if (cd) v += static_cast<Wide>(beta) * static_cast<Wide>(static_cast<C>(cd[i * c_strides[0] + j * c_strides[1]]));
        yd[i * N + j] = T(static_cast<C>(v));
      }
  });
  return Status::ok_status();
}

Status gemm_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& as = ctx.input_shape(0);
  const auto& bs = ctx.input_shape(1);
  if (!as || !bs || as->size() != 2 || bs->size() != 2) return Status::ok_status();
  const bool trans_a = ctx.node().attr_int("transA", 0) != 0;
  const bool trans_b = ctx.node().attr_int("transB", 0) != 0;
  ctx.set_output(0, std::nullopt, SymShape{(*as)[trans_a ? 1 : 0], (*bs)[trans_b ? 0 : 1]});
  return Status::ok_status();
}

}  // namespace

void register_linalg_ops(OpRegistry& r) {
  r.add({"MatMul", &matmul_kernel, &matmul_infer});
  r.add({"Gemm", &gemm_kernel, &gemm_infer});
  r.add({"Einsum", &einsum_kernel, &einsum_infer});
}

}  // namespace dj
