// ConvInteger and QLinearConv: zero points are subtracted while widening to i32
// (so padding contributes exactly 0, as a pad of the zero point would), the
// convolution runs exactly in integers (conv_i32), and QLinearConv requantizes
//   y = saturate(round_half_even((acc + B) * x_scale * w_scale[m] / y_scale) + y_zp)
// in float, like ONNX Runtime. w_zero_point and w_scale may be per output channel.
#include "runtime/ops/ConvPoolKernels.h"
#include "runtime/ops/LinalgQuantized.h"

namespace dj {
namespace {

// W's zero point viewed so that a per-channel [M] vector broadcasts along dim 0.
Tensor per_channel_view(const Tensor& zp, const Tensor& w) {
  if (zp.numel() <= 1 || zp.rank() != 1) return zp;
  Shape s(static_cast<size_t>(w.rank()), 1);
  s[0] = zp.numel();
  return zp.reshaped(s);
}

}  // namespace

Status conv_integer_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* xzp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  Tensor wzp = ctx.has_input(3) ? per_channel_view(ctx.input(3), w) : Tensor();
  DJ_CHECK(!xzp || xzp->numel() == 1, InvalidArgument, "ConvInteger: x_zero_point must be a scalar, got ",
           xzp->describe());
  DJ_ASSIGN_OR_RETURN(Tensor xi, widen_minus_zero_point(x, xzp, false, "ConvInteger"));
  DJ_ASSIGN_OR_RETURN(Tensor wi, widen_minus_zero_point(w, wzp.defined() ? &wzp : nullptr, false, "ConvInteger"));
  Expected<Tensor> y = conv_i32(ctx.node(), xi, wi, nullptr);
  if (!y.ok()) return y.status().with_context("ConvInteger: ");
  ctx.set_output(0, std::move(y).value());
  return Status::ok_status();
}

// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
Status qlinear_conv_kernel(KernelContext& ctx) {
  for (size_t i = 0; i < 8; ++i) DJ_CHECK(ctx.has_input(i), InvalidArgument, "QLinearConv: input ", i, " is missing");
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const Tensor& x_scale = ctx.input(1);
  const Tensor& w_scale = ctx.input(4);
  const Tensor& y_scale = ctx.input(6);
  const Tensor& y_zp = ctx.input(7);
  DJ_CHECK(x_scale.dtype() == DType::F32 && x_scale.numel() == 1 && y_scale.dtype() == DType::F32 &&
               y_scale.numel() == 1,
           InvalidArgument, "QLinearConv: x_scale and y_scale must be f32 scalars");
  DJ_CHECK((y_zp.dtype() == DType::U8 || y_zp.dtype() == DType::I8) && y_zp.numel() == 1, InvalidArgument,
           "QLinearConv: y_zero_point must be a u8 or i8 scalar, got ", y_zp.describe());
  DJ_CHECK(w.rank() >= 1, InvalidArgument, "QLinearConv: W must have rank >= 1");
  const int64_t M = w.dim(0);
  DJ_CHECK(w_scale.dtype() == DType::F32 && (w_scale.numel() == 1 || w_scale.numel() == M), InvalidArgument,
           "QLinearConv: w_scale must be an f32 scalar or [", M, "], got ", w_scale.describe());
  const Tensor wzp = per_channel_view(ctx.input(5), w);
  DJ_ASSIGN_OR_RETURN(Tensor xi, widen_minus_zero_point(x, &ctx.input(2), false, "QLinearConv"));
  DJ_ASSIGN_OR_RETURN(Tensor wi, widen_minus_zero_point(w, &wzp, false, "QLinearConv"));
  const Tensor* bias = ctx.has_input(8) ? &ctx.input(8) : nullptr;
  Expected<Tensor> acc = conv_i32(ctx.node(), xi, wi, bias);
  if (!acc.ok()) return acc.status().with_context("QLinearConv: ");
  const Tensor& a = *acc;
  Tensor& y = ctx.allocate_output(0, y_zp.dtype(), a.shape());
  const int64_t plane = a.rank() > 2 ? a.numel() / (a.dim(0) * a.dim(1)) : 1;
  const int32_t zy = y_zp.dtype() == DType::U8 ? y_zp.data<uint8_t>()[0] : y_zp.data<int8_t>()[0];
  const float xs = x_scale.data<float>()[0], ys = y_scale.data<float>()[0];
  const int32_t* ad = a.data<int32_t>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    const int64_t m = (i / plane) % M;
    const float scale = xs * w_scale.data<float>()[w_scale.numel() == 1 ? 0 : m] / ys;
    const int32_t q = requantize(static_cast<float>(ad[i]) * scale, zy, y_zp.dtype());
    if (y_zp.dtype() == DType::U8) y.data<uint8_t>()[i] = static_cast<uint8_t>(q);
    else y.data<int8_t>()[i] = static_cast<int8_t>(q);
  }
  return Status::ok_status();
}

Status quantized_conv_infer(ShapeContext& ctx) {
  const bool qlinear = ctx.node().op_type == "QLinearConv";
  ctx.set_output(0, qlinear ? ctx.input_dtype(7) : std::optional<DType>(DType::I32),
                 conv_output_sym_shape(ctx, ctx.input_shape(0), ctx.input_shape(qlinear ? 3 : 1)));
  return Status::ok_status();
}

}  // namespace dj
