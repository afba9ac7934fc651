// MatMulInteger, QLinearMatMul and zero-point widening (see LinalgQuantized.h).
#include "runtime/ops/LinalgQuantized.h"

#include <algorithm>
#include <cmath>

#include "runtime/ops/Broadcast.h"
#include "runtime/ops/LinalgBatchedMatMul.h"

namespace dj {
namespace {

bool is_quantized_type(DType t) { return t == DType::U8 || t == DType::I8; }

int32_t element_as_i32(const Tensor& t, int64_t i) {
  return t.dtype() == DType::U8 ? static_cast<int32_t>(t.data<uint8_t>()[i]) : static_cast<int32_t>(t.data<int8_t>()[i]);
}

// Scale tensor (f32) as a per-tensor value or a per-index vector of length n.
Expected<std::vector<float>> read_scale(const Tensor& s, int64_t n, const char* op, const char* what) {
  DJ_CHECK(s.dtype() == DType::F32, InvalidArgument, op, ": ", what, " must be f32, got ", s.describe());
  DJ_CHECK(s.numel() == 1 || s.numel() == n, InvalidArgument, op, ": ", what, " ", s.describe(),
           " is neither a scalar nor of length ", n);
  return std::vector<float>(s.data<float>(), s.data<float>() + s.numel());
}

}  // namespace

Expected<Tensor> widen_minus_zero_point(const Tensor& q, const Tensor* zp, bool one_dim_per_row, const char* op) {
  DJ_CHECK(is_quantized_type(q.dtype()), Unsupported, op, ": quantized inputs must be u8 or i8, got ", q.describe());
  Tensor out = Tensor::empty(DType::I32, q.shape());
  int32_t* d = out.data<int32_t>();
  const int64_t n = q.numel();
  if (!zp || zp->numel() == 1) {
    int32_t z = 0;
    if (zp) {
      DJ_CHECK(zp->dtype() == q.dtype(), InvalidArgument, op, ": zero point ", zp->describe(), " differs in dtype from ",
               q.describe());
      z = element_as_i32(*zp, 0);
    }
    for (int64_t i = 0; i < n; ++i) d[i] = element_as_i32(q, i) - z;
    return out;
  }
  DJ_CHECK(zp->dtype() == q.dtype(), InvalidArgument, op, ": zero point ", zp->describe(), " differs in dtype from ",
           q.describe());
  Shape zshape = zp->shape();
  if (zshape.size() == 1 && one_dim_per_row && q.rank() >= 2) zshape.push_back(1);
  Expected<Shape> bs = broadcast_shapes({zshape, q.shape()});
  DJ_CHECK(bs.ok() && *bs == q.shape(), InvalidArgument, op, ": zero point ", zp->describe(),
           " does not broadcast to ", q.describe());
  const Strides zs = broadcast_strides(zshape, q.shape());
  std::vector<int64_t> idx(q.shape().size(), 0);
  int64_t zoff = 0;
  for (int64_t i = 0; i < n; ++i) {
    d[i] = element_as_i32(q, i) - element_as_i32(*zp, zoff);
    for (int dim = q.rank() - 1; dim >= 0; --dim) {
      zoff += zs[dim];
      if (++idx[dim] < q.shape()[dim]) break;
      zoff -= zs[dim] * idx[dim];
      idx[dim] = 0;
    }
  }
  return out;
}

int32_t requantize(float v, int32_t zero_point, DType dtype) {
  const int32_t lo = dtype == DType::U8 ? 0 : -128, hi = dtype == DType::U8 ? 255 : 127;
  const float r = std::nearbyint(v) + static_cast<float>(zero_point);
  return static_cast<int32_t>(std::clamp(r, static_cast<float>(lo), static_cast<float>(hi)));
}

Status matmul_integer_kernel(KernelContext& ctx) {
  const Tensor* azp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* bzp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  DJ_ASSIGN_OR_RETURN(Tensor a, widen_minus_zero_point(ctx.input(0), azp, true, "MatMulInteger"));
  DJ_ASSIGN_OR_RETURN(Tensor b, widen_minus_zero_point(ctx.input(1), bzp, false, "MatMulInteger"));
  DJ_ASSIGN_OR_RETURN(Tensor y, numpy_matmul(a, b));
  ctx.set_output(0, std::move(y));
  return Status::ok_status();
}

Status matmul_integer_infer(ShapeContext& ctx) {
  ctx.set_output(0, DType::I32, numpy_matmul_sym_shape(ctx.input_shape(0), ctx.input_shape(1)));
  return Status::ok_status();
}

// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
Status qlinear_matmul_kernel(KernelContext& ctx) {
  for (size_t i = 0; i < 8; ++i)
    DJ_CHECK(ctx.has_input(i), InvalidArgument, "QLinearMatMul: input ", i, " is missing");
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const Tensor& y_zp = ctx.input(7);
  DJ_CHECK(is_quantized_type(y_zp.dtype()) && y_zp.numel() == 1, InvalidArgument,
           "QLinearMatMul: y_zero_point must be a u8 or i8 scalar, got ", y_zp.describe());
  DJ_ASSIGN_OR_RETURN(Tensor aw, widen_minus_zero_point(a, &ctx.input(2), true, "QLinearMatMul"));
  DJ_ASSIGN_OR_RETURN(Tensor bw, widen_minus_zero_point(b, &ctx.input(5), false, "QLinearMatMul"));
  DJ_ASSIGN_OR_RETURN(Tensor acc, numpy_matmul(aw, bw));
  const int64_t M = a.rank() >= 2 ? a.dim(-2) : 1;
  const int64_t N = b.rank() >= 2 ? b.dim(-1) : 1;
  DJ_ASSIGN_OR_RETURN(std::vector<float> sa, read_scale(ctx.input(1), M, "QLinearMatMul", "a_scale"));
  DJ_ASSIGN_OR_RETURN(std::vector<float> sb, read_scale(ctx.input(4), N, "QLinearMatMul", "b_scale"));
  DJ_ASSIGN_OR_RETURN(std::vector<float> sy, read_scale(ctx.input(6), 1, "QLinearMatMul", "y_scale"));
  const int32_t zy = element_as_i32(y_zp, 0);
  Tensor& y = ctx.allocate_output(0, y_zp.dtype(), acc.shape());
  const int32_t* ad = acc.data<int32_t>();
  for (int64_t i = 0; i < acc.numel(); ++i) {
    const int64_t row = (i / N) % M, col = i % N;
    const float scale = sa[sa.size() == 1 ? 0 : row] * sb[sb.size() == 1 ? 0 : col] / sy[0];
    const int32_t q = requantize(static_cast<float>(ad[i]) * scale, zy, y_zp.dtype());
    if (y_zp.dtype() == DType::U8) y.data<uint8_t>()[i] = static_cast<uint8_t>(q);
    else y.data<int8_t>()[i] = static_cast<int8_t>(q);
  }
  return Status::ok_status();
}

Status qlinear_matmul_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(7), numpy_matmul_sym_shape(ctx.input_shape(0), ctx.input_shape(3)));
  return Status::ok_status();
}

}  // namespace dj
