// Comparisons (Equal Less LessOrEqual Greater GreaterOrEqual: bool output),
// boolean logic (And Or Xor Not) and Where, all with multidirectional
// broadcasting. Where moves elements by size (1, 2, 4 or 8 bytes), so one loop
// serves every dtype; NaN compares unequal and unordered, as in IEEE.
#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"

namespace dj::elementwise {
namespace {

struct EqualOp { template <typename C> bool operator()(C a, C b) const { return a == b; } };
struct LessOp { template <typename C> bool operator()(C a, C b) const { return a < b; } };
struct LessOrEqualOp { template <typename C> bool operator()(C a, C b) const { return a <= b; } };
struct GreaterOp { template <typename C> bool operator()(C a, C b) const { return a > b; } };
struct GreaterOrEqualOp { template <typename C> bool operator()(C a, C b) const { return a >= b; } };

struct AndOp { bool operator()(bool a, bool b) const { return a && b; } };
struct OrOp { bool operator()(bool a, bool b) const { return a || b; } };
struct XorOp { bool operator()(bool a, bool b) const { return a != b; } };
struct NotOp { bool operator()(bool a) const { return !a; } };

Status equal_kernel(KernelContext& ctx) { return run_binary<true>(ctx, "Equal", AllTypes{}, EqualOp{}); }
Status less_kernel(KernelContext& ctx) { return run_binary<true>(ctx, "Less", NumericTypes{}, LessOp{}); }
Status less_or_equal_kernel(KernelContext& ctx) {
  return run_binary<true>(ctx, "LessOrEqual", NumericTypes{}, LessOrEqualOp{});
}
Status greater_kernel(KernelContext& ctx) { return run_binary<true>(ctx, "Greater", NumericTypes{}, GreaterOp{}); }
Status greater_or_equal_kernel(KernelContext& ctx) {
  return run_binary<true>(ctx, "GreaterOrEqual", NumericTypes{}, GreaterOrEqualOp{});
}

template <typename Op>
Status run_logic(KernelContext& ctx, const char* name, const Op& op) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, name, 2));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  DJ_CHECK(a.dtype() == DType::Bool && b.dtype() == DType::Bool, InvalidArgument, name,
           ": inputs must be bool, got ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_output_shape(name, {&a, &b}));
  Tensor& out = ctx.allocate_output(0, DType::Bool, shape);
  broadcast_binary<bool, bool, bool>(a, b, out, op);
  return Status();
}

Status and_kernel(KernelContext& ctx) { return run_logic(ctx, "And", AndOp{}); }
Status or_kernel(KernelContext& ctx) { return run_logic(ctx, "Or", OrOp{}); }
Status xor_kernel(KernelContext& ctx) { return run_logic(ctx, "Xor", XorOp{}); }

Status not_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Not", 1));
  const Tensor& x = ctx.input(0);
  DJ_CHECK(x.dtype() == DType::Bool, InvalidArgument, "Not: input must be bool, got ", dtype_name(x.dtype()));
  Tensor& y = ctx.allocate_output(0, DType::Bool, x.shape());
  map_unary(x.data<bool>(), y.data<bool>(), x.numel(), NotOp{});
  return Status();
}

struct SelectOp {
  template <typename S> S operator()(bool c, S x, S y) const { return c ? x : y; }
};

Status where_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Where", 3));
  const Tensor& cond = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  DJ_CHECK(cond.dtype() == DType::Bool, InvalidArgument, "Where: condition must be bool, got ",
           dtype_name(cond.dtype()));
  DJ_RETURN_IF_ERROR(check_same_dtype("Where", x, y));
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_output_shape("Where", {&cond, &x, &y}));
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  switch (dtype_size(x.dtype())) {
    case 1: broadcast_ternary<bool, uint8_t, uint8_t, uint8_t>(cond, x, y, out, SelectOp{}); break;
    case 2: broadcast_ternary<bool, uint16_t, uint16_t, uint16_t>(cond, x, y, out, SelectOp{}); break;
    case 4: broadcast_ternary<bool, uint32_t, uint32_t, uint32_t>(cond, x, y, out, SelectOp{}); break;
    case 8: broadcast_ternary<bool, uint64_t, uint64_t, uint64_t>(cond, x, y, out, SelectOp{}); break;
    default: return unsupported_dtype("Where", x.dtype());
  }
  return Status();
}

}  // namespace

void register_compare_logic_ops(OpRegistry& r) {
  r.add({"Equal", equal_kernel, infer_broadcast_bool});
  r.add({"Less", less_kernel, infer_broadcast_bool});
  r.add({"LessOrEqual", less_or_equal_kernel, infer_broadcast_bool});
  r.add({"Greater", greater_kernel, infer_broadcast_bool});
  r.add({"GreaterOrEqual", greater_or_equal_kernel, infer_broadcast_bool});
  r.add({"And", and_kernel, infer_broadcast_bool});
  r.add({"Or", or_kernel, infer_broadcast_bool});
  r.add({"Xor", xor_kernel, infer_broadcast_bool});
  r.add({"Not", not_kernel, infer_bool_like_input});
  r.add({"Where", where_kernel, infer_where});
}

}  // namespace dj::elementwise
