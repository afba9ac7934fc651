// Symbolic element values of shape tensors and the exact folding used on them.
#include "runtime/ops/ShapeValues.h"

#include <algorithm>
#include <cstdint>

namespace dj {

namespace {

bool is_integer_dtype(DType t) { return dtype_is_signed_int(t) || dtype_is_unsigned_int(t); }

// A product flattened into a constant coefficient and its non-constant factors.
struct Factors {
  int64_t coefficient = 1;
  std::vector<SymExpr> terms;
};

void collect_factors(const SymExpr& e, Factors& f) {
  if (e.is_const()) {
    f.coefficient *= e.const_value();
  } else if (e.op() == SymExpr::Op::Mul) {
    collect_factors(e.operands()[0], f);
    collect_factors(e.operands()[1], f);
  } else {
    f.terms.push_back(e);
  }
}

SymExpr rebuild(const Factors& f) {
  if (f.terms.empty()) return SymExpr(f.coefficient);
  SymExpr out = f.terms[0];
  for (size_t i = 1; i < f.terms.size(); ++i) out = out * f.terms[i];
  return out * SymExpr(f.coefficient);  // the constant last: "batch*seq*64"; x*1 folds
}

bool is_const_value(const SymExpr& e, int64_t v) { return e.is_const() && e.const_value() == v; }

// Matches x + (-1)*y (how operator- builds a difference) and x + (-c) for a
// constant c > 0; returns {x, y} (or {x, c}).
std::optional<std::pair<SymExpr, SymExpr>> as_difference(const SymExpr& e) {
  if (e.op() != SymExpr::Op::Add) return std::nullopt;
  const SymExpr& b = e.operands()[1];
  if (b.op() == SymExpr::Op::Mul && is_const_value(b.operands()[1], -1))
    return std::make_pair(e.operands()[0], b.operands()[0]);
  if (b.is_const() && b.const_value() < 0) return std::make_pair(e.operands()[0], SymExpr(-b.const_value()));
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<SymExpr>> known_elements(const ValueInfo* v) {
  if (!v) return std::nullopt;
  if (v->constant.defined()) {
    const Tensor& t = v->constant;
    if (t.rank() > 1 || !is_integer_dtype(t.dtype()) || static_cast<size_t>(t.numel()) > 4096) return std::nullopt;
    std::vector<SymExpr> out;
    for (int64_t x : t.to_int64_vector()) out.emplace_back(x);
    return out;
  }
  if (v->sym_values) return v->sym_values;
  return std::nullopt;
}

std::optional<std::vector<int64_t>> known_constant_elements(const ValueInfo* v) {
  auto e = known_elements(v);
  if (!e) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(e->size());
  for (const auto& x : *e) {
    if (!x.is_const()) return std::nullopt;
    out.push_back(x.const_value());
  }
  return out;
}

void set_known_elements(ValueInfo* out, std::vector<SymExpr> values) {
  if (!out || values.size() > kMaxSymValues) return;
  out->sym_values = std::move(values);
}

std::optional<Shape> static_dims(const std::optional<SymShape>& s) {
  if (!s) return std::nullopt;
  Shape out;
  out.reserve(s->size());
  for (const auto& d : *s) {
    if (!d.is_const()) return std::nullopt;
    out.push_back(d.const_value());
  }
  return out;
}

SymExpr sym_product(const SymShape& dims, size_t begin, size_t end) {
  end = std::min(end, dims.size());
  SymExpr p(1);
  for (size_t i = begin; i < end; ++i) p = p * dims[i];
  return p;
}

SymExpr sym_divide_exact(const SymExpr& num, const SymExpr& den) {
  Factors n, d;
  collect_factors(num, n);
  collect_factors(den, d);
  std::vector<SymExpr> left;
  for (const auto& t : d.terms) {
    auto it = std::find_if(n.terms.begin(), n.terms.end(), [&](const SymExpr& x) { return x.equals(t); });
    if (it != n.terms.end()) {
      n.terms.erase(it);
    } else {
      left.push_back(t);
    }
  }
  d.terms = std::move(left);
  if (d.coefficient != 0 && n.coefficient % d.coefficient == 0) {
    n.coefficient /= d.coefficient;
    d.coefficient = 1;
  }
  if (d.terms.empty() && d.coefficient == 1) return rebuild(n);
  return SymExpr::floor_div(rebuild(n), rebuild(d));
}

bool sym_is_nonnegative(const SymExpr& e) {
  switch (e.op()) {
    case SymExpr::Op::Const: return e.const_value() >= 0;
    case SymExpr::Op::Symbol: return true;
    case SymExpr::Op::Max:
      return sym_is_nonnegative(e.operands()[0]) || sym_is_nonnegative(e.operands()[1]);
    case SymExpr::Op::Add:
    case SymExpr::Op::Mul:
    case SymExpr::Op::FloorDiv:
    case SymExpr::Op::CeilDiv:
    case SymExpr::Op::Min:
      return sym_is_nonnegative(e.operands()[0]) && sym_is_nonnegative(e.operands()[1]);
    case SymExpr::Op::Mod: return sym_is_nonnegative(e.operands()[1]);
  }
  return false;
}

SymExpr sym_min(const SymExpr& a, const SymExpr& b) {
  if (a.equals(b)) return a;
  if (is_const_value(a, 0) && sym_is_nonnegative(b)) return a;
  if (is_const_value(b, 0) && sym_is_nonnegative(a)) return b;
  return SymExpr::min(a, b);
}

SymExpr sym_max(const SymExpr& a, const SymExpr& b) {
  if (a.equals(b)) return a;
  if (is_const_value(b, 0)) {
    if (sym_is_nonnegative(a)) return a;
    if (a.op() == SymExpr::Op::Max && is_const_value(a.operands()[1], 0)) return a;
    // max(x - min(c, x), 0) == max(x - c, 0)
    if (auto diff = as_difference(a)) {
      const SymExpr& y = diff->second;
      if (y.op() == SymExpr::Op::Min && y.operands()[1].equals(diff->first))
        return sym_max(diff->first - y.operands()[0], 0);
      // max(x - max(x - c, 0), 0) == min(c, x) for c >= 0, x >= 0
      if (y.op() == SymExpr::Op::Max && is_const_value(y.operands()[1], 0)) {
        if (auto inner = as_difference(y.operands()[0]);
            inner && inner->first.equals(diff->first) && sym_is_nonnegative(inner->second) &&
            sym_is_nonnegative(diff->first))
          return sym_min(inner->second, diff->first);
      }
    }
  }
  if (is_const_value(a, 0) && sym_is_nonnegative(b)) return b;
  return SymExpr::max(a, b);
}

Expected<int64_t> normalize_axis(int64_t axis, int64_t rank, const char* op) {
  if (axis < -rank || axis >= rank)
    return make_error(StatusCode::InvalidArgument, op, ": axis ", axis, " out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

std::optional<int64_t> normalize_axis_opt(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

}  // namespace dj
