// The linear-algebra op family: MatMul (numpy semantics), Gemm, Einsum
// (LinalgEinsum.cpp), MatMulInteger and QLinearMatMul (LinalgQuantized.cpp).
// Every product runs through batched_matmul (LinalgBatchedMatMul.h), so f32
// always reaches the blocked GEMM.
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/Broadcast.h"
#include "runtime/ops/GemmKernel.h"
#include "runtime/ops/GemmWeightCache.h"
#include "runtime/ops/LinalgBatchedMatMul.h"
#include "runtime/ops/LinalgEinsum.h"
#include "runtime/ops/LinalgQuantized.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {
namespace {

// ---------------------------------------------------------------- MatMul

Status matmul_kernel(KernelContext& ctx) {
  DJ_ASSIGN_OR_RETURN(Tensor y, numpy_matmul(ctx.input(0), ctx.input(1)));
  ctx.set_output(0, std::move(y));
  return Status::ok_status();
}

Status matmul_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), numpy_matmul_sym_shape(ctx.input_shape(0), ctx.input_shape(1)));
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
    const auto packed = packed_gemm_weights(b, trans_b);  // a constant weight: packed once
    gemm_f32(M, N, K, alpha, {a.data<float>(), a_rs, a_cs}, {b.data<float>(), b_rs, b_cs}, beta, yd, N, packed.get());
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
  r.add({"MatMulInteger", &matmul_integer_kernel, &matmul_integer_infer});
  r.add({"QLinearMatMul", &qlinear_matmul_kernel, &qlinear_matmul_infer});
}

}  // namespace dj
