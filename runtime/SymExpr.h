// SymExpr: a symbolic integer — a constant, a named symbol, or an expression of
// them — used for every tensor dimension known at load time.
//
// One expression language is shared by shape propagation, regions, guards and
// the shape-generic tier (tinygrad's `symbolic` idea). Symbols come in two kinds:
// Input symbols are named by the model (ONNX dim_param, e.g. "batch", "seq");
// DataDependent symbols stand for sizes only known after running an op (NonZero,
// TopK with a runtime k, Reshape fed by runtime values). Expressions are
// immutable, shared, and folded on construction (2+3 -> 5, x*1 -> x, x+0 -> x).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dj {

enum class SymbolKind : uint8_t { Input, DataDependent };
enum class DimClass : uint8_t { Constant, Symbolic, DataDependent };

class SymExpr {
 public:
  enum class Op : uint8_t { Const, Symbol, Add, Mul, FloorDiv, CeilDiv, Mod, Max, Min };

  SymExpr() : SymExpr(int64_t{0}) {}
  SymExpr(int64_t value);  // NOLINT: implicit from integers on purpose
  SymExpr(int value) : SymExpr(static_cast<int64_t>(value)) {}
  static SymExpr symbol(const std::string& name, SymbolKind kind = SymbolKind::Input);

  Op op() const { return node_->op; }
  bool is_const() const { return node_->op == Op::Const; }
  int64_t const_value() const { return node_->value; }  // only when is_const()
  bool is_symbol() const { return node_->op == Op::Symbol; }
  const std::string& symbol_name() const { return node_->name; }
  SymbolKind symbol_kind() const { return node_->kind; }
  const std::vector<SymExpr>& operands() const { return node_->operands; }

  DimClass classify() const;     // Constant, Symbolic (only Input symbols) or DataDependent
  bool is_data_dependent() const { return classify() == DimClass::DataDependent; }
  bool equals(const SymExpr& other) const;  // structural equality after folding
  std::string to_string() const;
  void collect_symbols(std::vector<std::string>& out) const;

  // Value under concrete bindings of the symbols; nullopt if a symbol is unbound.
  std::optional<int64_t> evaluate(const std::map<std::string, int64_t>& bindings) const;

  friend SymExpr operator+(const SymExpr& a, const SymExpr& b);
  friend SymExpr operator-(const SymExpr& a, const SymExpr& b);
  friend SymExpr operator*(const SymExpr& a, const SymExpr& b);
  static SymExpr floor_div(const SymExpr& a, const SymExpr& b);
  static SymExpr ceil_div(const SymExpr& a, const SymExpr& b);
  static SymExpr mod(const SymExpr& a, const SymExpr& b);
  static SymExpr max(const SymExpr& a, const SymExpr& b);
  static SymExpr min(const SymExpr& a, const SymExpr& b);

 private:
  struct Node {
    Op op = Op::Const;
    int64_t value = 0;
    std::string name;
    SymbolKind kind = SymbolKind::Input;
    std::vector<SymExpr> operands;
  };
  explicit SymExpr(std::shared_ptr<const Node> n) : node_(std::move(n)) {}
  static SymExpr make(Op op, const SymExpr& a, const SymExpr& b);
  std::shared_ptr<const Node> node_;
};

// A shape known at load time: one SymExpr per dimension.
using SymShape = std::vector<SymExpr>;
std::string sym_shape_to_string(const SymShape& s);  // "[batch,seq*2,64]"
bool sym_shape_is_static(const SymShape& s);


}  // namespace dj
