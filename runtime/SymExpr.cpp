// SymExpr construction with folding, printing and evaluation.
#include "runtime/SymExpr.h"

#include <algorithm>
#include <sstream>

namespace dj {

namespace {
int64_t floor_div_int(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

SymExpr::SymExpr(int64_t value) {
  auto n = std::make_shared<Node>();
  n->op = Op::Const;
  n->value = value;
  node_ = std::move(n);
}

SymExpr SymExpr::symbol(const std::string& name, SymbolKind kind) {
  auto n = std::make_shared<Node>();
  n->op = Op::Symbol;
  n->name = name;
  n->kind = kind;
  return SymExpr(std::shared_ptr<const Node>(std::move(n)));
}

SymExpr SymExpr::make(Op op, const SymExpr& a, const SymExpr& b) {
  if (a.is_const() && b.is_const()) {
    int64_t x = a.const_value(), y = b.const_value();
    switch (op) {
      case Op::Add: return x + y;
      case Op::Mul: return x * y;
      case Op::FloorDiv: if (y != 0) return floor_div_int(x, y); break;
      case Op::CeilDiv: if (y != 0) return -floor_div_int(-x, y); break;
      case Op::Mod: if (y != 0) return x - floor_div_int(x, y) * y; break;
      case Op::Max: return std::max(x, y);
      case Op::Min: return std::min(x, y);
      default: break;
    }
  }
  // Identities that keep shapes readable.
  if (op == Op::Add) {
    if (a.is_const() && a.const_value() == 0) return b;
    if (b.is_const() && b.const_value() == 0) return a;
  }
  if (op == Op::Mul) {
    if (a.is_const() && a.const_value() == 1) return b;
    if (b.is_const() && b.const_value() == 1) return a;
    if ((a.is_const() && a.const_value() == 0) || (b.is_const() && b.const_value() == 0)) return 0;
  }
  if ((op == Op::FloorDiv || op == Op::CeilDiv) && b.is_const() && b.const_value() == 1) return a;
  if ((op == Op::Max || op == Op::Min) && a.equals(b)) return a;
  auto n = std::make_shared<Node>();
  n->op = op;
  n->operands = {a, b};
  return SymExpr(std::shared_ptr<const Node>(std::move(n)));
}

SymExpr operator+(const SymExpr& a, const SymExpr& b) { return SymExpr::make(SymExpr::Op::Add, a, b); }
SymExpr operator-(const SymExpr& a, const SymExpr& b) {
  if (a.equals(b)) return 0;
  return SymExpr::make(SymExpr::Op::Add, a, SymExpr::make(SymExpr::Op::Mul, b, -1));
}
SymExpr operator*(const SymExpr& a, const SymExpr& b) { return SymExpr::make(SymExpr::Op::Mul, a, b); }
SymExpr SymExpr::floor_div(const SymExpr& a, const SymExpr& b) { return make(Op::FloorDiv, a, b); }
SymExpr SymExpr::ceil_div(const SymExpr& a, const SymExpr& b) { return make(Op::CeilDiv, a, b); }
SymExpr SymExpr::mod(const SymExpr& a, const SymExpr& b) { return make(Op::Mod, a, b); }
SymExpr SymExpr::max(const SymExpr& a, const SymExpr& b) { return make(Op::Max, a, b); }
SymExpr SymExpr::min(const SymExpr& a, const SymExpr& b) { return make(Op::Min, a, b); }

DimClass SymExpr::classify() const {
  switch (op()) {
    case Op::Const: return DimClass::Constant;
    case Op::Symbol:
      return symbol_kind() == SymbolKind::DataDependent ? DimClass::DataDependent : DimClass::Symbolic;
    default: {
      DimClass worst = DimClass::Constant;
      for (const auto& o : operands()) worst = std::max(worst, o.classify());
      return worst;
    }
  }
}

bool SymExpr::equals(const SymExpr& other) const {
  if (node_ == other.node_) return true;
  if (op() != other.op()) return false;
  switch (op()) {
    case Op::Const: return const_value() == other.const_value();
    case Op::Symbol: return symbol_name() == other.symbol_name() && symbol_kind() == other.symbol_kind();
    default:
      return operands()[0].equals(other.operands()[0]) && operands()[1].equals(other.operands()[1]);
  }
}

std::string SymExpr::to_string() const {
  switch (op()) {
    case Op::Const: return std::to_string(const_value());
    case Op::Symbol: return symbol_name();
    case Op::Add: {
      const SymExpr& b = operands()[1];
      if (b.op() == Op::Mul && b.operands()[1].is_const() && b.operands()[1].const_value() == -1)
        return "(" + operands()[0].to_string() + "-" + b.operands()[0].to_string() + ")";
      if (b.is_const() && b.const_value() < 0)
        return "(" + operands()[0].to_string() + "-" + std::to_string(-b.const_value()) + ")";
      return "(" + operands()[0].to_string() + "+" + b.to_string() + ")";
    }
    case Op::Mul: return operands()[0].to_string() + "*" + operands()[1].to_string();
    case Op::FloorDiv: return "floor(" + operands()[0].to_string() + "/" + operands()[1].to_string() + ")";
    case Op::CeilDiv: return "ceil(" + operands()[0].to_string() + "/" + operands()[1].to_string() + ")";
    case Op::Mod: return "(" + operands()[0].to_string() + "%" + operands()[1].to_string() + ")";
    case Op::Max: return "max(" + operands()[0].to_string() + "," + operands()[1].to_string() + ")";
    case Op::Min: return "min(" + operands()[0].to_string() + "," + operands()[1].to_string() + ")";
  }
  return "?";
}

void SymExpr::collect_symbols(std::vector<std::string>& out) const {
  if (is_symbol()) {
    if (std::find(out.begin(), out.end(), symbol_name()) == out.end()) out.push_back(symbol_name());
    return;
  }
  for (const auto& o : operands()) o.collect_symbols(out);
}

std::optional<int64_t> SymExpr::evaluate(const std::map<std::string, int64_t>& bindings) const {
  switch (op()) {
    case Op::Const: return const_value();
    case Op::Symbol: {
      auto it = bindings.find(symbol_name());
      if (it == bindings.end()) return std::nullopt;
      return it->second;
    }
    default: break;
  }
  auto a = operands()[0].evaluate(bindings);
  auto b = operands()[1].evaluate(bindings);
  if (!a || !b) return std::nullopt;
  SymExpr folded = make(op(), *a, *b);
  if (!folded.is_const()) return std::nullopt;  // division by zero
  return folded.const_value();
}

std::string sym_shape_to_string(const SymShape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i].to_string();
  os << "]";
  return os.str();
}

bool sym_shape_is_static(const SymShape& s) {
  for (const auto& d : s)
    if (!d.is_const()) return false;
  return true;
}


}  // namespace dj
