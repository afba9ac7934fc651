// Unary math: Sqrt Exp Log Tanh Erf Reciprocal, trigonometric and hyperbolic
// functions, Floor Ceil Round (half to even), Neg Abs Sign (every numeric
// dtype; integer Neg/Abs wrap at the minimum value), IsNaN and IsInf.
// Float-only ops reject integer inputs as Unsupported, naming the dtype.
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"
#include "runtime/ops/ErfRows.h"

namespace dj::elementwise {
namespace {

struct SqrtOp { template <typename C> C operator()(C x) const { return std::sqrt(x); } };
struct ExpOp { template <typename C> C operator()(C x) const { return std::exp(x); } };
struct LogOp { template <typename C> C operator()(C x) const { return std::log(x); } };
struct TanhOp { template <typename C> C operator()(C x) const { return std::tanh(x); } };
struct ErfOp { template <typename C> C operator()(C x) const { return std::erf(x); } };
struct ReciprocalOp { template <typename C> C operator()(C x) const { return C(1) / x; } };
struct SinOp { template <typename C> C operator()(C x) const { return std::sin(x); } };
struct CosOp { template <typename C> C operator()(C x) const { return std::cos(x); } };
struct TanOp { template <typename C> C operator()(C x) const { return std::tan(x); } };
struct AsinOp { template <typename C> C operator()(C x) const { return std::asin(x); } };
struct AcosOp { template <typename C> C operator()(C x) const { return std::acos(x); } };
struct AtanOp { template <typename C> C operator()(C x) const { return std::atan(x); } };
struct SinhOp { template <typename C> C operator()(C x) const { return std::sinh(x); } };
struct CoshOp { template <typename C> C operator()(C x) const { return std::cosh(x); } };
struct AsinhOp { template <typename C> C operator()(C x) const { return std::asinh(x); } };
struct AcoshOp { template <typename C> C operator()(C x) const { return std::acosh(x); } };
struct AtanhOp { template <typename C> C operator()(C x) const { return std::atanh(x); } };
struct FloorOp { template <typename C> C operator()(C x) const { return std::floor(x); } };
struct CeilOp { template <typename C> C operator()(C x) const { return std::ceil(x); } };
// nearbyint rounds in the current mode, which is round-half-to-even (ONNX Round).
struct RoundOp { template <typename C> C operator()(C x) const { return std::nearbyint(x); } };

struct NegOp {
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_integral_v<C>) return static_cast<C>(wrapping_t<C>(0) - wrapping_t<C>(x));
    else return -x;
  }
};
struct AbsOp {
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) return x;
    else if constexpr (std::is_integral_v<C>) return x < 0 ? static_cast<C>(wrapping_t<C>(0) - wrapping_t<C>(x)) : x;
    else return std::fabs(x);
  }
};
// NaN stays NaN (numpy's sign); +-0 gives 0.
struct SignOp {
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) return x > 0 ? C(1) : C(0);
    else if constexpr (std::is_integral_v<C>) return x > 0 ? C(1) : x < 0 ? C(-1) : C(0);
    else return x > 0 ? C(1) : x < 0 ? C(-1) : x * C(0);
  }
};

struct IsNaNOp { template <typename C> bool operator()(C x) const { return x != x; } };
struct IsInfOp {
  bool negative = true, positive = true;
  template <typename C> bool operator()(C x) const {
    return (positive && x == std::numeric_limits<C>::infinity()) ||
           (negative && x == -std::numeric_limits<C>::infinity());
  }
};

// One kernel body for every op of this file: the op type names the op in errors.
template <typename Set, typename Op, int64_t kGrainSize = kGrain>
Status unary_kernel(KernelContext& ctx) {
  return run_unary(ctx, ctx.node().op_type.c_str(), Set{}, Op{}, kGrainSize);
}

Status isnan_kernel(KernelContext& ctx) { return run_unary_to_bool(ctx, "IsNaN", FloatTypes{}, IsNaNOp{}); }
Status isinf_kernel(KernelContext& ctx) {
  IsInfOp op;
  op.negative = ctx.node().attr_int("detect_negative", 1) != 0;
  op.positive = ctx.node().attr_int("detect_positive", 1) != 0;
  return run_unary_to_bool(ctx, "IsInf", FloatTypes{}, op);
}

constexpr int64_t kSlow = kTranscendentalGrain;

// Erf: float through the vectorized erf_row_kernels (ErfRows.h), other dtypes std::erf.
Status erf_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Erf", 1));
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::F32) return run_unary(ctx, "Erf", FloatTypes{}, ErfOp{}, kSlow);
  Tensor& y = ctx.allocate_output(0, DType::F32, x.shape());
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const auto erf = erf_row_kernels().erf;
  parallel_ranges(x.numel(), kSlow, [&](int64_t begin, int64_t end) { erf(in + begin, out + begin, end - begin); });
  return Status();
}

}  // namespace

void register_math_ops(OpRegistry& r) {
  r.add({"Sqrt", unary_kernel<FloatTypes, SqrtOp>, infer_same_as_input});
  r.add({"Exp", unary_kernel<FloatTypes, ExpOp, kSlow>, infer_same_as_input});
  r.add({"Log", unary_kernel<FloatTypes, LogOp, kSlow>, infer_same_as_input});
  r.add({"Tanh", unary_kernel<FloatTypes, TanhOp, kSlow>, infer_same_as_input});
  r.add({"Erf", erf_kernel, infer_same_as_input});
  r.add({"Reciprocal", unary_kernel<FloatTypes, ReciprocalOp>, infer_same_as_input});
  r.add({"Sin", unary_kernel<FloatTypes, SinOp, kSlow>, infer_same_as_input});
  r.add({"Cos", unary_kernel<FloatTypes, CosOp, kSlow>, infer_same_as_input});
  r.add({"Tan", unary_kernel<FloatTypes, TanOp, kSlow>, infer_same_as_input});
  r.add({"Asin", unary_kernel<FloatTypes, AsinOp, kSlow>, infer_same_as_input});
  r.add({"Acos", unary_kernel<FloatTypes, AcosOp, kSlow>, infer_same_as_input});
  r.add({"Atan", unary_kernel<FloatTypes, AtanOp, kSlow>, infer_same_as_input});
  r.add({"Sinh", unary_kernel<FloatTypes, SinhOp, kSlow>, infer_same_as_input});
  r.add({"Cosh", unary_kernel<FloatTypes, CoshOp, kSlow>, infer_same_as_input});
  r.add({"Asinh", unary_kernel<FloatTypes, AsinhOp, kSlow>, infer_same_as_input});
  r.add({"Acosh", unary_kernel<FloatTypes, AcoshOp, kSlow>, infer_same_as_input});
  r.add({"Atanh", unary_kernel<FloatTypes, AtanhOp, kSlow>, infer_same_as_input});
  r.add({"Floor", unary_kernel<FloatTypes, FloorOp>, infer_same_as_input});
  r.add({"Ceil", unary_kernel<FloatTypes, CeilOp>, infer_same_as_input});
  r.add({"Round", unary_kernel<FloatTypes, RoundOp>, infer_same_as_input});
  r.add({"Neg", unary_kernel<NumericTypes, NegOp>, infer_same_as_input});
  r.add({"Abs", unary_kernel<NumericTypes, AbsOp>, infer_same_as_input});
  r.add({"Sign", unary_kernel<NumericTypes, SignOp>, infer_same_as_input});
  r.add({"IsNaN", isnan_kernel, infer_bool_like_input});
  r.add({"IsInf", isinf_kernel, infer_bool_like_input});
}

}  // namespace dj::elementwise
