// Binary arithmetic with multidirectional broadcasting: Add Sub Mul Div Pow Mod
// BitShift.
//
// Integer semantics are made total: Add/Sub/Mul wrap modulo 2^bits (computed in
// the unsigned type, so no signed-overflow UB); Div and Mod by zero return an
// InvalidArgument Status naming the op instead of trapping; INT_MIN / -1 wraps.
// Integer Pow is exact repeated squaring (wrapping), with a negative exponent
// giving the truncated 1/x^n (0 unless |x| == 1). Mod follows ONNX: fmod=0 takes
// the sign of the divisor (Python's %), fmod=1 the sign of the dividend (C fmod).
#include <cmath>
#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseCast.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"

namespace dj::elementwise {
namespace {

template <typename C>
using wrap_t = wrapping_t<C>;

struct AddOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return static_cast<C>(wrap_t<C>(a) + wrap_t<C>(b));
    else return a + b;
  }
};
struct SubOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return static_cast<C>(wrap_t<C>(a) - wrap_t<C>(b));
    else return a - b;
  }
};
struct MulOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return static_cast<C>(wrap_t<C>(a) * wrap_t<C>(b));
    else return a * b;
  }
};
// Integer divisors were checked non-zero before the loop runs.
struct DivOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C> && std::is_signed_v<C>) {
      return b == C(-1) ? static_cast<C>(wrap_t<C>(0) - wrap_t<C>(a)) : static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};

template <bool kSignOfDivisor>
struct ModOp {
  template <typename C> C operator()(C a, C b) const {
    C r;
    if constexpr (std::is_floating_point_v<C>) {
      r = std::fmod(a, b);
    } else if constexpr (std::is_signed_v<C>) {
      r = b == C(-1) ? C(0) : static_cast<C>(a % b);
    } else {
      return static_cast<C>(a % b);
    }
    if constexpr (kSignOfDivisor) {
      if (r != C(0) && ((r < C(0)) != (b < C(0)))) r = static_cast<C>(r + b);
    }
    return r;
  }
};

template <typename C>
C integer_pow(C base, C exponent) {
  if constexpr (std::is_signed_v<C>) {
    if (exponent < 0) {
      if (base == 1) return C(1);
      if (base == -1) return (exponent & 1) ? C(-1) : C(1);
      return C(0);  // truncation of 1/base^n; 0^-n has no integer value either
    }
  }
  wrap_t<C> result = 1, b = static_cast<wrap_t<C>>(base);
  auto e = static_cast<std::make_unsigned_t<C>>(exponent);
  while (e) {
    if (e & 1u) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<C>(result);
}

struct PowOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return integer_pow(a, b);
    else return std::pow(a, b);
  }
};

// Pow whose exponent had another dtype and was converted to double.
template <typename T>
struct PowDoubleExponentOp {
  compute_t<T> operator()(compute_t<T> a, double e) const {
    using C = compute_t<T>;
    if constexpr (std::is_integral_v<C>) {
      // An integral exponent stays exact; a fractional one goes through double.
      if (e == std::trunc(e) && std::fabs(e) < 64.0) return integer_pow(a, static_cast<C>(e));
      return float_to_int<C>(std::pow(static_cast<double>(a), e));
    } else {
      return static_cast<C>(std::pow(static_cast<double>(a), e));
    }
  }
};

template <bool kLeft>
struct BitShiftOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {  // only unsigned dtypes reach here (checked first)
      if (b >= C(sizeof(C) * 8)) return C(0);
      return kLeft ? static_cast<C>(a << b) : static_cast<C>(a >> b);
    } else {
      return a;
    }
  }
};

bool contains_zero(const Tensor& t) {
  bool found = false;
  dispatch_dtype(t.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      const T* p = t.data<T>();
      for (int64_t i = 0, n = t.numel(); i < n && !found; ++i) found = p[i] == T(0);
    }
  });
  return found;
}

Status check_integer_divisor(const KernelContext& ctx, const char* op) {
  const Tensor& b = ctx.input(1);
  if (!dtype_is_float(b.dtype()) && contains_zero(b))
    return make_error(StatusCode::InvalidArgument, op, ": integer division by zero (divisor ", b.describe(),
                      " has a zero element)");
  return Status();
}

Status add_kernel(KernelContext& ctx) { return run_binary<false>(ctx, "Add", NumericTypes{}, AddOp{}); }
Status sub_kernel(KernelContext& ctx) { return run_binary<false>(ctx, "Sub", NumericTypes{}, SubOp{}); }
Status mul_kernel(KernelContext& ctx) { return run_binary<false>(ctx, "Mul", NumericTypes{}, MulOp{}); }

Status div_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Div", 2));
  DJ_RETURN_IF_ERROR(check_integer_divisor(ctx, "Div"));
  return run_binary<false>(ctx, "Div", NumericTypes{}, DivOp{});
}

Status mod_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Mod", 2));
  DJ_RETURN_IF_ERROR(check_integer_divisor(ctx, "Mod"));
  if (ctx.node().attr_int("fmod", 0) != 0) return run_binary<false>(ctx, "Mod", NumericTypes{}, ModOp<false>{});
  return run_binary<false>(ctx, "Mod", NumericTypes{}, ModOp<true>{});
}

Status pow_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Pow", 2));
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.input(1);
  if (x.dtype() == y.dtype()) return run_binary<false>(ctx, "Pow", NumericTypes{}, PowOp{});
  DJ_CHECK(y.dtype() != DType::Bool, Unsupported, "Pow: exponent dtype bool is not supported");
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_output_shape("Pow", {&x, &y}));
  const Tensor exponent = cast_tensor(y, DType::F64);
  bool ok = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
    broadcast_binary<T, double, T>(x, exponent, out, PowDoubleExponentOp<T>{});
  });
  return ok ? Status() : unsupported_dtype("Pow", x.dtype());
}

Status bitshift_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "BitShift", 2));
  const std::string direction = ctx.node().attr_string("direction", "");
  DJ_CHECK(direction == "LEFT" || direction == "RIGHT", InvalidModel,
           "BitShift: attribute 'direction' must be LEFT or RIGHT, got '", direction, "'");
  DJ_CHECK(dtype_is_unsigned_int(ctx.input(0).dtype()), Unsupported, "BitShift: dtype ",
           dtype_name(ctx.input(0).dtype()), " is not supported (unsigned integers only)");
  if (direction == "LEFT") return run_binary<false>(ctx, "BitShift", NumericTypes{}, BitShiftOp<true>{});
  return run_binary<false>(ctx, "BitShift", NumericTypes{}, BitShiftOp<false>{});
}

}  // namespace

void register_arithmetic_ops(OpRegistry& r) {
  r.add({"Add", add_kernel, infer_arithmetic});
  r.add({"Sub", sub_kernel, infer_arithmetic});
  r.add({"Mul", mul_kernel, infer_arithmetic});
  r.add({"Div", div_kernel, infer_arithmetic});
  r.add({"Pow", pow_kernel, infer_broadcast});
  r.add({"Mod", mod_kernel, infer_broadcast});
  r.add({"BitShift", bitshift_kernel, infer_broadcast});
}

}  // namespace dj::elementwise
