// Activations: Sigmoid Relu LeakyRelu Softplus Softsign Elu Selu Celu
// HardSigmoid HardSwish ThresholdedRelu Mish Shrink; PRelu (slope broadcast to
// the input's shape; per channel before opset 7); Clip (bounds as attributes
// before opset 11, as optional scalar inputs from 11); Dropout in inference mode
// (output = input, mask all true; training with a non-zero ratio is Unsupported).
// Attribute defaults are ONNX's; f16/bf16 compute in float.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"

namespace dj::elementwise {
namespace {

template <typename C>
C softplus(C x) {  // log(1 + e^x) without overflow for large x
  return x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

struct SigmoidOp { template <typename C> C operator()(C x) const { return C(1) / (C(1) + std::exp(-x)); } };
struct SoftplusOp { template <typename C> C operator()(C x) const { return softplus(x); } };
struct SoftsignOp { template <typename C> C operator()(C x) const { return x / (C(1) + std::fabs(x)); } };
struct MishOp { template <typename C> C operator()(C x) const { return x * std::tanh(softplus(x)); } };
// NaN passes through (x < 0 is false), as max(x, 0) does in numpy.
struct ReluOp {
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) return x;
    else return x < C(0) ? C(0) : x;
  }
};
struct LeakyReluOp {
  float alpha;
  template <typename C> C operator()(C x) const { return x < C(0) ? C(alpha) * x : x; }
};
struct EluOp {
  float alpha;
  template <typename C> C operator()(C x) const { return x < C(0) ? C(alpha) * (std::exp(x) - C(1)) : x; }
};
struct SeluOp {
  float alpha, gamma;
  template <typename C> C operator()(C x) const {
    return x > C(0) ? C(gamma) * x : C(gamma) * (C(alpha) * std::exp(x) - C(alpha));
  }
};
struct CeluOp {
  float alpha;
  template <typename C> C operator()(C x) const {
    const C neg = C(alpha) * (std::exp(x / C(alpha)) - C(1));
    return (x > C(0) ? x : C(0)) + (neg < C(0) ? neg : C(0));
  }
};
struct HardSigmoidOp {
  float alpha, beta;
  template <typename C> C operator()(C x) const {
    const C y = C(alpha) * x + C(beta);
    return y < C(0) ? C(0) : y > C(1) ? C(1) : y;
  }
};
struct HardSwishOp {
  template <typename C> C operator()(C x) const {
    const C y = x / C(6) + C(0.5);
    return x * (y < C(0) ? C(0) : y > C(1) ? C(1) : y);
  }
};
struct ThresholdedReluOp {
  float alpha;
  template <typename C> C operator()(C x) const { return x > C(alpha) ? x : C(0); }
};
// Compared in double so that integer inputs see a fractional lambd exactly.
struct ShrinkOp {
  float lambd, bias;
  template <typename C> C operator()(C x) const {
    const double v = static_cast<double>(x);
    if (v < -static_cast<double>(lambd)) return static_cast<C>(v + bias);
    if (v > static_cast<double>(lambd)) return static_cast<C>(v - bias);
    return C(0);
  }
};
struct PReluOp {
  template <typename C> C operator()(C x, C slope) const { return x < C(0) ? slope * x : x; }
};

float attr(const KernelContext& ctx, const char* key, float fallback) { return ctx.node().attr_float(key, fallback); }

Status sigmoid_kernel(KernelContext& ctx) {
  return run_unary(ctx, "Sigmoid", FloatTypes{}, SigmoidOp{}, kTranscendentalGrain);
}
Status softplus_kernel(KernelContext& ctx) {
  return run_unary(ctx, "Softplus", FloatTypes{}, SoftplusOp{}, kTranscendentalGrain);
}
Status softsign_kernel(KernelContext& ctx) { return run_unary(ctx, "Softsign", FloatTypes{}, SoftsignOp{}); }
Status mish_kernel(KernelContext& ctx) { return run_unary(ctx, "Mish", FloatTypes{}, MishOp{}, kTranscendentalGrain); }
Status relu_kernel(KernelContext& ctx) { return run_unary(ctx, "Relu", NumericTypes{}, ReluOp{}); }
Status leaky_relu_kernel(KernelContext& ctx) {
  return run_unary(ctx, "LeakyRelu", FloatTypes{}, LeakyReluOp{attr(ctx, "alpha", 0.01f)});
}
Status elu_kernel(KernelContext& ctx) {
  return run_unary(ctx, "Elu", FloatTypes{}, EluOp{attr(ctx, "alpha", 1.0f)}, kTranscendentalGrain);
}
Status selu_kernel(KernelContext& ctx) {
  SeluOp op{attr(ctx, "alpha", 1.67326319217681884765625f), attr(ctx, "gamma", 1.05070102214813232421875f)};
  return run_unary(ctx, "Selu", FloatTypes{}, op, kTranscendentalGrain);
}
Status celu_kernel(KernelContext& ctx) {
  return run_unary(ctx, "Celu", FloatTypes{}, CeluOp{attr(ctx, "alpha", 1.0f)}, kTranscendentalGrain);
}
Status hard_sigmoid_kernel(KernelContext& ctx) {
  return run_unary(ctx, "HardSigmoid", FloatTypes{}, HardSigmoidOp{attr(ctx, "alpha", 0.2f), attr(ctx, "beta", 0.5f)});
}
Status hard_swish_kernel(KernelContext& ctx) { return run_unary(ctx, "HardSwish", FloatTypes{}, HardSwishOp{}); }
Status thresholded_relu_kernel(KernelContext& ctx) {
  return run_unary(ctx, "ThresholdedRelu", FloatTypes{}, ThresholdedReluOp{attr(ctx, "alpha", 1.0f)});
}

Status shrink_kernel(KernelContext& ctx) {
  return run_unary(ctx, "Shrink", NumericTypes{}, ShrinkOp{attr(ctx, "lambd", 0.5f), attr(ctx, "bias", 0.0f)});
}

Status prelu_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "PRelu", 2));
  const Tensor& x = ctx.input(0);
  Tensor slope = ctx.input(1);
  DJ_RETURN_IF_ERROR(check_same_dtype("PRelu", x, slope));
  // Before opset 7 there was no numpy broadcasting: a 1-D slope of C values is
  // per channel (axis 1), so view it as [C,1,...,1].
  if (ctx.opset() < 7 && slope.rank() == 1 && x.rank() >= 2 && slope.numel() == x.dim(1) && slope.numel() > 1) {
    Shape channel(static_cast<size_t>(x.rank() - 1), 1);
    channel[0] = slope.numel();
    slope = slope.reshaped(channel);
  }
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_output_shape("PRelu", {&x, &slope}));
  DJ_CHECK(shape == x.shape(), InvalidArgument, "PRelu: slope ", shape_to_string(slope.shape()),
           " does not broadcast to the input's shape ", shape_to_string(x.shape()));
  bool ok = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
    broadcast_binary<T, T, T>(x, slope, out, PReluOp{});
  });
  return ok ? Status() : unsupported_dtype("PRelu", x.dtype());
}

template <typename C>
struct ClipOp {
  C lo, hi;
  // min(max(x, lo), hi) as numpy's clip: NaN passes through, lo > hi gives hi.
  C operator()(C x) const {
    const C y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};

// Reads Clip's optional bound input i (opset >= 11) into `bound`.
template <typename T>
Status read_clip_bound(const KernelContext& ctx, size_t i, const char* what, compute_t<T>& bound) {
  if (!ctx.has_input(i)) return Status();
  const Tensor& b = ctx.input(i);
  DJ_CHECK(b.dtype() == ctx.input(0).dtype(), InvalidArgument, "Clip: ", what, " has dtype ", dtype_name(b.dtype()),
           " but the input has ", dtype_name(ctx.input(0).dtype()));
  DJ_CHECK(b.numel() == 1, InvalidArgument, "Clip: ", what, " must be a scalar, got shape ",
           shape_to_string(b.shape()));
  bound = load(b.data<T>()[0]);
  return Status();
}

Status clip_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Clip", 1));
  const Tensor& x = ctx.input(0);
  Status status;
  bool ok = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    ClipOp<C> op{std::numeric_limits<C>::lowest(), std::numeric_limits<C>::max()};
    if constexpr (std::numeric_limits<C>::has_infinity) {
      op.lo = -std::numeric_limits<C>::infinity();
      op.hi = std::numeric_limits<C>::infinity();
    }
    if (ctx.opset() < 11) {
      if (ctx.node().has_attr("min")) op.lo = static_cast<C>(ctx.node().attr_float("min", 0));
      if (ctx.node().has_attr("max")) op.hi = static_cast<C>(ctx.node().attr_float("max", 0));
    } else {
      status = read_clip_bound<T>(ctx, 1, "min", op.lo);
      if (status.ok()) status = read_clip_bound<T>(ctx, 2, "max", op.hi);
      if (!status.ok()) return;
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    map_unary(x.data<T>(), y.data<T>(), x.numel(), op);
  });
  if (!ok) return unsupported_dtype("Clip", x.dtype());
  return status;
}

// Before opset 10 the mask has the data's dtype; from 10 on it is bool.
DType dropout_mask_dtype(int64_t opset, DType data) { return opset < 10 ? data : DType::Bool; }

Status dropout_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Dropout", 1));
  const Tensor& x = ctx.input(0);
  if (ctx.opset() >= 12 && ctx.has_input(2) && ctx.input(2).numel() > 0 && ctx.input(2).item<bool>()) {
    const float ratio = ctx.has_input(1) ? ctx.input(1).item<float>() : 0.5f;
    DJ_CHECK(ratio == 0.0f, Unsupported, "Dropout: training mode with ratio ", ratio,
             " is not supported (inference only)");
  }
  Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
  if (x.nbytes() > 0) std::memcpy(y.raw_data(), x.raw_data(), x.nbytes());
  if (ctx.wants_output(1)) {
    const DType mask_dtype = dropout_mask_dtype(ctx.opset(), x.dtype());
    Tensor& mask = ctx.allocate_output(1, mask_dtype, x.shape());
    dispatch_dtype(mask_dtype, AllTypes{}, [&](auto tag) {
      using T = decltype(tag);
      std::fill_n(mask.data<T>(), mask.numel(), store<T>(compute_t<T>(1)));
    });
  }
  return Status();
}

Status infer_dropout(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  if (ctx.num_outputs() > 1) {
    std::optional<DType> mask = ctx.opset() >= 10 ? std::optional<DType>(DType::Bool) : ctx.input_dtype(0);
    ctx.set_output(1, mask, ctx.input_shape(0));
  }
  return Status();
}

}  // namespace

void register_activation_ops(OpRegistry& r) {
  r.add({"Sigmoid", sigmoid_kernel, infer_same_as_input});
  r.add({"Softplus", softplus_kernel, infer_same_as_input});
  r.add({"Softsign", softsign_kernel, infer_same_as_input});
  r.add({"Mish", mish_kernel, infer_same_as_input});
  r.add({"Relu", relu_kernel, infer_same_as_input});
  r.add({"LeakyRelu", leaky_relu_kernel, infer_same_as_input});
  r.add({"Elu", elu_kernel, infer_same_as_input});
  r.add({"Selu", selu_kernel, infer_same_as_input});
  r.add({"Celu", celu_kernel, infer_same_as_input});
  r.add({"HardSigmoid", hard_sigmoid_kernel, infer_same_as_input});
  r.add({"HardSwish", hard_swish_kernel, infer_same_as_input});
  r.add({"ThresholdedRelu", thresholded_relu_kernel, infer_same_as_input});
  r.add({"Shrink", shrink_kernel, infer_same_as_input});
  r.add({"PRelu", prelu_kernel, infer_same_as_input});
  r.add({"Clip", clip_kernel, infer_same_as_input});
  r.add({"Dropout", dropout_kernel, infer_dropout});
}

}  // namespace dj::elementwise
