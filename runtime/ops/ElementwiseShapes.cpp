// Shape functions shared by the elementwise family (see ElementwiseShapes.h).
#include "runtime/ops/ElementwiseShapes.h"

#include "runtime/ops/Broadcast.h"

namespace dj::elementwise {
namespace {

constexpr int64_t kMaxSymValues = 64;  // shape-like tensors are short; do not expand big constants

std::optional<SymShape> broadcast_present_inputs(const ShapeContext& ctx, size_t first = 0) {
  std::vector<std::optional<SymShape>> shapes;
  for (size_t i = first; i < ctx.num_inputs(); ++i)
    if (ctx.input(i)) shapes.push_back(ctx.input_shape(i));
  if (shapes.empty()) return std::nullopt;
  return broadcast_sym_shapes(shapes);
}

bool is_nonnegative_or_symbolic(const std::vector<SymExpr>& v) {
  for (const auto& e : v)
    if (e.is_const() && e.const_value() < 0) return false;
  return true;
}

}  // namespace

std::optional<std::vector<SymExpr>> known_int_values(const ValueInfo* v) {
  if (!v) return std::nullopt;
  if (v->sym_values) return v->sym_values;
  const Tensor& c = v->constant;
  if (!c.defined() || c.rank() > 1 || c.numel() > kMaxSymValues) return std::nullopt;
  if (!dtype_is_signed_int(c.dtype()) && !dtype_is_unsigned_int(c.dtype())) return std::nullopt;
  std::vector<SymExpr> out;
  for (int64_t x : c.to_int64_vector()) out.emplace_back(x);
  return out;
}

Status infer_same_as_input(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status();
}

Status infer_bool_like_input(ShapeContext& ctx) {
  ctx.set_output(0, DType::Bool, ctx.input_shape(0));
  return Status();
}

Status infer_broadcast(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), broadcast_present_inputs(ctx));
  return Status();
}

Status infer_broadcast_bool(ShapeContext& ctx) {
  ctx.set_output(0, DType::Bool, broadcast_present_inputs(ctx));
  return Status();
}

Status infer_where(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(1), broadcast_present_inputs(ctx));
  return Status();
}

Status infer_arithmetic(ShapeContext& ctx) {
  DJ_RETURN_IF_ERROR(infer_broadcast(ctx));
  auto dtype = ctx.input_dtype(0);
  ValueInfo* out = ctx.output(0);
  if (!out || !dtype || !(dtype_is_signed_int(*dtype) || dtype_is_unsigned_int(*dtype))) return Status();
  if (ctx.num_inputs() != 2) return Status();
  auto a = known_int_values(ctx.input(0));
  auto b = known_int_values(ctx.input(1));
  if (!a || !b || a->empty() || b->empty()) return Status();
  if (a->size() != b->size() && a->size() != 1 && b->size() != 1) return Status();
  // The result's rank must be known to be <= 1 for the values to be a flat list.
  if (!out->shape || out->shape->size() > 1) return Status();
  const std::string& op = ctx.node().op_type;
  // Div truncates toward zero; SymExpr divides by floor, which agrees only for non-negative values.
  if (op == "Div" && !(is_nonnegative_or_symbolic(*a) && is_nonnegative_or_symbolic(*b))) return Status();
  const size_t n = std::max(a->size(), b->size());
  std::vector<SymExpr> values;
  values.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const SymExpr& x = (*a)[a->size() == 1 ? 0 : i];
    const SymExpr& y = (*b)[b->size() == 1 ? 0 : i];
    if (op == "Add") values.push_back(x + y);
    else if (op == "Sub") values.push_back(x - y);
    else if (op == "Mul") values.push_back(x * y);
    else if (op == "Div") {
      if (y.is_const() && y.const_value() == 0) return Status();
      values.push_back(SymExpr::floor_div(x, y));
    } else if (op == "Max") values.push_back(SymExpr::max(x, y));
    else if (op == "Min") values.push_back(SymExpr::min(x, y));
    else return Status();
  }
  out->sym_values = std::move(values);
  return Status();
}

}  // namespace dj::elementwise
