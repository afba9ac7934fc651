// plan_fusion: concrete shapes for a signature, then greedy fusion groups.
#include "specializer/FusionPlan.h"

#include <map>
#include <set>
#include <sstream>

#include "jit/GemmTile.h"

namespace dj::specializer {
namespace {

const std::set<std::string>& unary_ops() {
  static const std::set<std::string> ops = {"Relu", "Sigmoid", "Tanh", "Exp",   "Log",        "Neg",  "Abs",
                                            "Sqrt", "Erf",     "Identity", "Reciprocal", "LeakyRelu", "Floor",
                                            "Ceil"};
  return ops;
}

const std::set<std::string>& binary_ops() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Max", "Min"};
  return ops;
}

bool is_f32(const Graph& g, ValueId id) {
  return id != kNoValue && g.value(id).dtype && *g.value(id).dtype == DType::F32;
}

// Decodes the signature words into one shape per region input.
Status bind_inputs(const Region& region, const SignatureWords& sig, std::unordered_map<ValueId, Shape>& shapes,
                   std::map<std::string, int64_t>& symbols) {
  size_t input = 0;
  Status status;
  bool complete = for_each_signature_input(sig.data(), sig.size(), [&](const SignatureInput& in) {
    if (input >= region.inputs.size()) {
      status = Status(StatusCode::InvalidArgument, "signature longer than the region's inputs");
      return false;
    }
    const ValueId id = region.inputs[input++];
    if (!in.present) {
      status = Status(StatusCode::Unsupported, "an omitted optional input");
      return false;
    }
    const ValueInfo& info = region.graph->value(id);
    if (info.dtype && *info.dtype != in.dtype) {
      status = make_error(StatusCode::InvalidArgument, "'", info.name, "' is ", dtype_name(in.dtype), ", declared ",
                          dtype_name(*info.dtype));
      return false;
    }
    const auto dims = sig.begin() + static_cast<std::ptrdiff_t>(in.dims_offset);
    Shape shape(dims, dims + static_cast<std::ptrdiff_t>(in.rank));
    if (info.shape) {
      if (info.shape->size() != in.rank) {
        status = make_error(StatusCode::InvalidArgument, "'", info.name, "' has rank ", in.rank, ", declared ",
                            info.shape->size());
        return false;
      }
      for (size_t d = 0; d < in.rank; ++d) {
        const SymExpr& e = (*info.shape)[d];
        if (!e.is_symbol()) continue;
        auto [it, fresh] = symbols.emplace(e.symbol_name(), shape[d]);
        if (!fresh && it->second != shape[d]) {
          status = make_error(StatusCode::InvalidArgument, "symbol '", e.symbol_name(), "' is both ", it->second,
                              " and ", shape[d]);
          return false;
        }
      }
    }
    shapes[id] = std::move(shape);
    return true;
  });
  DJ_RETURN_IF_ERROR(status);
  if (!complete || input != region.inputs.size())
    return Status(StatusCode::InvalidArgument, "signature too short for the region's inputs");
  // Inputs whose declared dims are expressions (seq*2) must agree with the bindings.
  for (ValueId id : region.inputs) {
    const ValueInfo& info = region.graph->value(id);
    if (!info.shape) continue;
    for (size_t d = 0; d < info.shape->size(); ++d) {
      auto v = (*info.shape)[d].evaluate(symbols);
      if (v && *v != shapes[id][d])
        return make_error(StatusCode::InvalidArgument, "'", info.name, "' dim ", d, " is ", shapes[id][d],
                          ", but its declared ", (*info.shape)[d].to_string(), " is ", *v);
    }
  }
  return {};
}

// How many times each value is read anywhere in the graph (graph outputs count).
std::vector<int32_t> reader_counts(const Graph& g) {
  std::vector<int32_t> readers(g.values.size(), 0);
  for (const Node& n : g.nodes) {
    for (ValueId id : n.inputs)
      if (id != kNoValue) ++readers[static_cast<size_t>(id)];
    for (ValueId id : n.implicit_inputs) ++readers[static_cast<size_t>(id)];
  }
  for (ValueId id : g.outputs) ++readers[static_cast<size_t>(id)];
  return readers;
}

bool fits_int32(const Shape& s) { return shape_numel(s) < (int64_t{1} << 31); }

class Planner {
 public:
  Planner(FusionPlan& plan, const PlanFeatures& features)
      : plan_(plan), features_(features), g_(*plan.graph), readers_(reader_counts(g_)) {
    for (int32_t n = plan.region->first_node; n < plan.region->end_node; ++n)
      for (ValueId id : node(n).outputs)
        if (id != kNoValue) producer_[id] = n;
  }

  void run() {
    const Region& r = *plan_.region;
    for (int32_t n = r.first_node; n < r.end_node;) n = plan_group(n);
  }

 private:
  const Node& node(int32_t n) const { return g_.nodes[static_cast<size_t>(n)]; }
  const Shape& shape(ValueId id) const { return plan_.shapes.at(id); }
  bool nonempty(ValueId id) const { return shape_numel(shape(id)) > 0 && fits_int32(shape(id)); }

  // The value `id` is read once, by node `next` (so a group may keep it internal).
  bool only_read_by(ValueId id, int32_t next) const {
    if (readers_[static_cast<size_t>(id)] != 1 || next >= plan_.region->end_node) return false;
    const Node& n = node(next);
    for (ValueId in : n.inputs)
      if (in == id) return true;
    return false;
  }

  // Every output of `n` is known at load (a Constant, an Identity of a weight) and
  // none leaves the region: no kernel and no step (SpecializedRegion fills constant
  // slots), and an elementwise run may go on past it.
  bool load_time_constant(const Node& n) const {
    const auto& outs = plan_.region->outputs;
    for (ValueId id : n.outputs)
      if (id == kNoValue || !g_.value(id).constant.defined() || std::find(outs.begin(), outs.end(), id) != outs.end())
        return false;
    return !n.outputs.empty();
  }

  bool elementwise_ok(const Node& n) const {
    if (!is_fusable_elementwise(n)) return false;
    for (ValueId id : n.inputs)
      if (!is_f32(g_, id) || !nonempty(id)) return false;
    if (!is_f32(g_, n.outputs[0]) || !nonempty(n.outputs[0])) return false;
    if (plan_.generic) {  // broadcasting must not depend on the sizes
      auto out = symbolic_shape(g_, n.outputs[0]);
      if (!out) return false;
      for (ValueId id : n.inputs) {
        auto in = symbolic_shape(g_, id);
        std::vector<bool> flags;
        if (!in || !symbolic_broadcast(*in, *out, flags)) return false;
      }
    }
    return true;
  }

  bool gemm_ok(const Node& n) const {
    if (plan_.generic && !features_.generic_gemm) return false;
    const bool onnx_gemm = onnx_gemm_ok(n);
    if (!onnx_gemm && (n.op_type != "MatMul" || n.inputs.size() != 2)) return false;
    ValueId a = n.inputs[0], b = n.inputs[1];
    if (!is_f32(g_, a) || !is_f32(g_, b) || !nonempty(a) || !nonempty(b) || !nonempty(n.outputs[0])) return false;
    return shape(a).size() >= 2 && shape(b).size() == 2 && shape(a).back() == shape(b)[0];
  }

  // ONNX Gemm in the form a MatMul with a bias is: no transposes (WeightLayout.h
  // stores constant transB weights untransposed at load), alpha = beta = 1, and C
  // absent or one value per output column.
  bool onnx_gemm_ok(const Node& n) const {
    if (n.op_type != "Gemm" || !n.domain.empty() || n.inputs.size() < 2) return false;
    if (n.attr_int("transA", 0) != 0 || n.attr_int("transB", 0) != 0) return false;
    if (n.attr_float("alpha", 1.0f) != 1.0f || n.attr_float("beta", 1.0f) != 1.0f) return false;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      ValueId c = n.inputs[2];
      const Shape& cs = shape(c);
      if (!is_f32(g_, c) || cs.empty() || shape_numel(cs) != cs.back() || cs.back() != shape(n.inputs[1]).back())
        return false;
    }
    return shape(n.inputs[0]).size() == 2;
  }

  // MatMul of [b..., M, K] by [b..., K, N], the same batch dims on both sides.
  bool batched_gemm_ok(const Node& n) const {
    if (!features_.batched_gemm || n.op_type != "MatMul" || n.inputs.size() != 2) return false;
    if (plan_.generic && !features_.generic_gemm) return false;
    ValueId a = n.inputs[0], b = n.inputs[1];
    if (!is_f32(g_, a) || !is_f32(g_, b) || !nonempty(a) || !nonempty(b) || !nonempty(n.outputs[0])) return false;
    const Shape& sa = shape(a);
    const Shape& sb = shape(b);
    if (sa.size() < 3 || sa.size() != sb.size() || sa.back() != sb[sb.size() - 2]) return false;
    if (!std::equal(sa.begin(), sa.end() - 2, sb.begin())) return false;
    if (plan_.generic) {  // the batch dims must be equal for every signature, not just this one
      auto ya = symbolic_shape(g_, a), yb = symbolic_shape(g_, b);
      if (!ya || !yb || ya->size() != yb->size()) return false;
      for (size_t d = 0; d + 2 < ya->size(); ++d)
        if (!(*ya)[d].equals((*yb)[d])) return false;
      if (!(*ya)[ya->size() - 1].equals((*yb)[yb->size() - 2])) return false;
    }
    return true;
  }

  // A 2-D f32 Conv with concrete shapes (its geometry is checked when lowered).
  bool conv_ok(const Node& n) const {
    if (!features_.conv || plan_.generic || n.op_type != "Conv" || !n.domain.empty() || n.inputs.size() < 2) return false;
    ValueId x = n.inputs[0], w = n.inputs[1];
    if (!is_f32(g_, x) || !is_f32(g_, w) || !nonempty(x) || !nonempty(w) || !nonempty(n.outputs[0])) return false;
    if (shape(x).size() != 4 || shape(w).size() != 4) return false;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      ValueId b = n.inputs[2];
      if (!is_f32(g_, b) || shape_numel(shape(b)) != shape(w)[0]) return false;
    }
    return true;
  }

  bool softmax_ok(const Node& n) const {
    if (n.op_type != "Softmax" || !is_f32(g_, n.inputs[0]) || !nonempty(n.inputs[0])) return false;
    int64_t rank = static_cast<int64_t>(shape(n.inputs[0]).size());
    int64_t axis = n.attr_int("axis", -1);
    return rank >= 1 && (axis == -1 || axis == rank - 1);
  }

  // Whether only the last node's output of `run` is read outside it (and every
  // other value it makes is read inside it, so all are ancestors of the last).
  bool single_output(const std::vector<int32_t>& run) const {
    std::map<ValueId, int32_t> inside;
    for (int32_t j : run)
      for (ValueId in : node(j).inputs) inside[in] += 1;
    for (size_t k = 0; k + 1 < run.size(); ++k) {
      ValueId v = node(run[k]).outputs[0];
      int32_t in_run = inside.count(v) ? inside[v] : 0;
      if (in_run == 0 || readers_[static_cast<size_t>(v)] != in_run) return false;
    }
    return true;
  }

  bool layer_norm_ok(const Node& n) const {
    if (n.op_type != "LayerNormalization" || !n.domain.empty() || n.inputs.size() < 2) return false;
    for (size_t o = 1; o < n.outputs.size(); ++o)
      if (n.outputs[o] != kNoValue) return false;  // Mean / InvStdDev wanted: interpret
    if (n.attr_int("stash_type", 1) != 1) return false;
    ValueId x = n.inputs[0];
    if (!is_f32(g_, x) || !nonempty(x)) return false;
    const Shape& s = shape(x);
    int64_t rank = static_cast<int64_t>(s.size());
    int64_t axis = n.attr_int("axis", -1);
    if (rank < 1 || !(axis == -1 || axis == rank - 1)) return false;
    for (size_t i = 1; i < n.inputs.size() && i < 3; ++i) {
      ValueId p = n.inputs[i];
      if (p == kNoValue) continue;
      if (!is_f32(g_, p) || shape_numel(shape(p)) != s.back()) return false;
    }
    return n.inputs[1] != kNoValue;
  }

  // An elementwise group whose one output only feeds the Softmax/LayerNorm right
  // after it becomes that reduction's prologue (FusionPlan.h).
  void take_into_reduction(FusionGroup& group, std::set<ValueId>& internal, int32_t& next) {
    if (!features_.reduction_prologue || plan_.generic || !only_read_by(group.output, next)) return;
    const Node& r = node(next);
    const bool softmax = softmax_ok(r), layer_norm = !softmax && layer_norm_ok(r);
    if ((!softmax && !layer_norm) || r.inputs[0] != group.output) return;
    const Shape& rows = shape(group.output);
    for (ValueId id : group.inputs)
      if (!row_operand(shape(id), rows)) return;
    group.kind = softmax ? GroupKind::Softmax : GroupKind::LayerNorm;
    group.prologue = static_cast<int32_t>(group.nodes.size());
    group.nodes.push_back(next);
    internal.insert(group.output);
    add_inputs(group, r, internal);
    group.output = r.outputs[0];
    group.n = rows.back();
    group.m = shape_numel(rows) / rows.back();
    ++next;
  }

  void add_inputs(FusionGroup& group, const Node& n, const std::set<ValueId>& internal) {
    for (ValueId id : n.inputs) {
      if (id == kNoValue || internal.count(id)) continue;
      if (std::find(group.inputs.begin(), group.inputs.end(), id) == group.inputs.end()) group.inputs.push_back(id);
    }
  }

  int32_t plan_group(int32_t first) {
    const Node& n = node(first);
    FusionGroup group;
    std::set<ValueId> internal;
    int32_t next = first + 1;
    if (load_time_constant(n)) {
      group = interpreted_group(first);
    } else if (gemm_ok(n)) {
      group.kind = GroupKind::Gemm;
      group.nodes.push_back(first);
      group.gemm_a = n.inputs[0];
      group.gemm_b = n.inputs[1];
      const Shape& a = shape(group.gemm_a);
      group.k = a.back();
      group.n = shape(group.gemm_b)[1];
      group.m = shape_numel(a) / group.k;
      ValueId out = n.outputs[0];
      add_inputs(group, n, internal);
      const bool has_c = n.op_type == "Gemm" && n.inputs.size() > 2 && n.inputs[2] != kNoValue;
      if (has_c) group.gemm_bias = n.inputs[2];  // ONNX Gemm's C: already this group's bias
      // Epilogue: + bias[N] (unless Gemm's C is one), Relu, + a residual, Relu.
      fold_epilogue(group, internal, out, next, /*bias=*/!has_c);
      group.output = out;
    } else if (conv_ok(n)) {
      group.kind = GroupKind::Conv;
      group.nodes.push_back(first);
      add_inputs(group, n, internal);
      if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) group.gemm_bias = n.inputs[2];
      ValueId out = n.outputs[0];
      fold_epilogue(group, internal, out, next, /*bias=*/false);
      group.output = out;
    } else if (batched_gemm_ok(n)) {
      group.kind = GroupKind::BatchedGemm;
      group.nodes.push_back(first);
      group.gemm_a = n.inputs[0];
      group.gemm_b = n.inputs[1];
      add_inputs(group, n, internal);
      const Shape& a = shape(group.gemm_a);
      group.m = a[a.size() - 2];
      group.k = a.back();
      group.n = shape(group.gemm_b).back();
      group.batch = shape_numel(a) / (group.m * group.k);
      group.output = n.outputs[0];
      fold_transpose(group, n, 0);
      fold_transpose(group, n, 1);
    } else if (softmax_ok(n)) {
      group.kind = GroupKind::Softmax;
      group.nodes.push_back(first);
      group.inputs.push_back(n.inputs[0]);
      group.output = n.outputs[0];
      const Shape& s = shape(n.inputs[0]);
      group.n = s.back();
      group.m = shape_numel(s) / s.back();
    } else if (layer_norm_ok(n)) {
      group.kind = GroupKind::LayerNorm;
      group.nodes.push_back(first);
      add_inputs(group, n, internal);
      group.output = n.outputs[0];
      const Shape& s = shape(n.inputs[0]);
      group.n = s.back();
      group.m = shape_numel(s) / s.back();
    } else if (elementwise_ok(n)) {
      // A run of consecutive elementwise ops, each reading something the run made
      // or an input the run already reads (a DAG: x*sigmoid(x), GELU's
      // (x*0.5)*(1+erf(x/sqrt2)) whose x*0.5 branch starts from x again), cut back
      // until every value but the last is read only inside the run — one kernel,
      // one output.
      group.kind = GroupKind::Elementwise;
      std::vector<int32_t> run = {first};
      std::set<ValueId> made = {n.outputs[0]};
      std::set<ValueId> read(n.inputs.begin(), n.inputs.end());
      // Constants between the ops (torch exports GELU's 1.0 and 0.5 as Constant nodes
      // in the middle of it) are stepped over: they run nowhere (load_time_constant).
      std::vector<int32_t> stepped_over;
      for (int32_t j = first + 1; j < plan_.region->end_node; ++j) {
        if (load_time_constant(node(j))) {
          stepped_over.push_back(j);
          continue;
        }
        if (!elementwise_ok(node(j))) break;
        bool connected = false;
        for (ValueId in : node(j).inputs)
          connected |= made.count(in) > 0 || (read.count(in) > 0 && !g_.value(in).constant.defined());
        if (!connected) break;
        run.push_back(j);
        made.insert(node(j).outputs[0]);
        read.insert(node(j).inputs.begin(), node(j).inputs.end());
      }
      while (run.size() > 1 && !single_output(run)) run.pop_back();
      for (int32_t j : run) {
        add_inputs(group, node(j), internal);
        internal.insert(node(j).outputs[0]);
        group.nodes.push_back(j);
      }
      group.output = node(run.back()).outputs[0];
      next = run.back() + 1;
      take_into_reduction(group, internal, next);
      // The constants stepped over inside the run still get their groups (every node
      // is in one group), placed after the run's since nothing computes them.
      plan_.groups.push_back(std::move(group));
      for (int32_t j : stepped_over)
        if (j < run.back()) plan_.groups.push_back(interpreted_group(j));
      return next;
    } else {
      group = interpreted_group(first);
    }
    plan_.groups.push_back(std::move(group));
    return next;
  }

  // Folds the Transpose that makes operand `operand` of the batched MatMul `matmul`
  // into `group` when only the MatMul reads its output and it keeps the operand's
  // last axis last (so the kernel's inner loop still reads contiguous floats): the
  // group reads the Transpose's input through its perm, and the Transpose's own
  // interpreted group, planned before, is taken back.
  void fold_transpose(FusionGroup& group, const Node& matmul, int operand) {
    // Only into the register-tiled batched schedule, where the permuted reads measured
    // no slower; the row schedule below it ran tiny_encoder's attention 1.6-2.3x
    // slower with them.
    if (!features_.fold_transposes || plan_.generic || !jit::batched_gemm_register_tiled(group.n, group.m)) return;
    const ValueId v = matmul.inputs[static_cast<size_t>(operand)];
    auto made_by = producer_.find(v);
    if (made_by == producer_.end() || readers_[static_cast<size_t>(v)] != 1) return;
    const int32_t t = made_by->second;
    const Node& transpose = node(t);
    if (transpose.op_type != "Transpose" || !transpose.domain.empty() || transpose.inputs.size() != 1) return;
    const ValueId x = transpose.inputs[0];
    if (x == kNoValue || !is_f32(g_, x) || !nonempty(x)) return;
    const int64_t rank = static_cast<int64_t>(shape(x).size());
    std::vector<int64_t> perm = transpose.attr_ints("perm");
    if (perm.empty())
      for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
    if (static_cast<int64_t>(perm.size()) != rank || perm.back() != rank - 1) return;
    auto own = std::find_if(plan_.groups.begin(), plan_.groups.end(), [&](const FusionGroup& g) {
      return g.kind == GroupKind::Interpreted && g.nodes.size() == 1 && g.nodes[0] == t;
    });
    if (own == plan_.groups.end()) return;
    plan_.groups.erase(own);
    group.nodes.insert(std::lower_bound(group.nodes.begin(), group.nodes.end(), t), t);
    (operand == 0 ? group.gemm_a : group.gemm_b) = x;
    (operand == 0 ? group.a_perm : group.b_perm) = perm;
    group.inputs = {group.gemm_a};
    if (group.gemm_b != group.gemm_a) group.inputs.push_back(group.gemm_b);
  }

  FusionGroup interpreted_group(int32_t n) {
    FusionGroup group;
    group.kind = GroupKind::Interpreted;
    group.nodes.push_back(n);
    add_inputs(group, node(n), {});
    group.load_time_constant = load_time_constant(node(n));
    return group;
  }

  // Folds node `next` into the group when it is an `op` that is the sole reader of
  // `out` and (for a binary op) whose other operand passes `accept`; advances
  // `out`/`next`. Returns the other operand (kNoValue for a unary op), or nullopt.
  template <typename Accept>
  std::optional<ValueId> fold_next(FusionGroup& group, std::set<ValueId>& internal, ValueId& out, int32_t& next,
                                   const char* op, Accept&& accept) {
    if (!only_read_by(out, next) || node(next).op_type != op) return std::nullopt;
    const Node& n = node(next);
    ValueId other = kNoValue;
    if (n.inputs.size() == 2) {
      other = n.inputs[0] == out ? n.inputs[1] : n.inputs[0];
      if (other == out || !is_f32(g_, other) || shape(n.outputs[0]) != shape(out) || !accept(other)) return std::nullopt;
    }
    group.nodes.push_back(next);
    internal.insert(out);
    add_inputs(group, n, internal);
    out = n.outputs[0];
    ++next;
    return other;
  }

  // The epilogue a product (Gemm, Conv) takes: + bias (a value per output column,
  // when `bias`), Relu, + a residual of the output's own shape, Relu again; each
  // only while it is the sole reader of the value before it.
  void fold_epilogue(FusionGroup& group, std::set<ValueId>& internal, ValueId& out, int32_t& next, bool bias) {
    auto none = [](ValueId) { return true; };
    if (bias) {
      auto bias_like = [&](ValueId v) {
        const Shape& bs = shape(v);
        return !bs.empty() && bs.back() == group.n && shape_numel(bs) == group.n;
      };
      if (auto b = fold_next(group, internal, out, next, "Add", bias_like)) group.gemm_bias = *b;
    }
    group.gemm_relu = fold_next(group, internal, out, next, "Relu", none).has_value();
    if (!features_.residual_epilogue) return;
    auto residual_like = [&](ValueId v) { return shape(v) == shape(out) && (!plan_.generic || same_symbolic_shape(v, out)); };
    if (auto r = fold_next(group, internal, out, next, "Add", residual_like)) {
      group.gemm_residual = *r;
      group.gemm_relu_after_residual = fold_next(group, internal, out, next, "Relu", none).has_value();
    }
  }

  bool same_symbolic_shape(ValueId a, ValueId b) const {
    auto sa = symbolic_shape(g_, a), sb = symbolic_shape(g_, b);
    if (!sa || !sb || sa->size() != sb->size()) return false;
    for (size_t d = 0; d < sa->size(); ++d)
      if (!(*sa)[d].equals((*sb)[d])) return false;
    return true;
  }

  FusionPlan& plan_;
  PlanFeatures features_;
  const Graph& g_;
  std::vector<int32_t> readers_;
  std::unordered_map<ValueId, int32_t> producer_;  // the region's node that makes each value
};

}  // namespace

std::optional<RowOperand> row_operand(const Shape& shape, const Shape& rows_shape) {
  if (rows_shape.empty()) return std::nullopt;
  const int64_t n = rows_shape.back(), numel = shape_numel(shape);
  if (numel == 1) return RowOperand::Scalar;
  if (shape.size() > rows_shape.size()) return std::nullopt;
  if (shape == rows_shape) return RowOperand::Full;
  if (numel == n && !shape.empty() && shape.back() == n) return RowOperand::Row;  // [n], [1, n], ...
  return std::nullopt;
}

const char* group_kind_name(GroupKind kind) {
  switch (kind) {
    case GroupKind::Elementwise: return "elementwise";
    case GroupKind::Gemm: return "gemm";
    case GroupKind::Softmax: return "softmax";
    case GroupKind::Interpreted: return "interpreted";
    case GroupKind::LayerNorm: return "layernorm";
    case GroupKind::BatchedGemm: return "batched gemm";
    case GroupKind::Conv: return "conv";
  }
  return "?";
}

bool is_fusable_elementwise(const Node& node) {
  if (node.outputs.size() != 1 || node.outputs[0] == kNoValue || !node.domain.empty()) return false;
  if (unary_ops().count(node.op_type)) return node.inputs.size() == 1;
  if (binary_ops().count(node.op_type)) return node.inputs.size() == 2;
  return false;
}

bool FusionPlan::fuses_anything() const {
  for (const FusionGroup& g : groups) {
    if (g.kind == GroupKind::Interpreted) continue;
    if (g.kind != GroupKind::Elementwise || g.nodes.size() > 1) return true;
  }
  return false;
}

size_t FusionPlan::kernel_count() const {
  size_t n = 0;
  for (const FusionGroup& g : groups) n += g.kind != GroupKind::Interpreted;
  return n;
}

std::string FusionPlan::describe() const {
  std::ostringstream os;
  for (size_t i = 0; i < groups.size(); ++i) {
    const FusionGroup& grp = groups[i];
    os << "  group " << i << " " << group_kind_name(grp.kind) << ":";
    for (int32_t n : grp.nodes) os << " " << graph->nodes[static_cast<size_t>(n)].op_type;
    if (grp.output != kNoValue) {
      os << " -> " << graph->value(grp.output).name << "[";
      const Shape& s = shapes.at(grp.output);
      for (size_t d = 0; d < s.size(); ++d) os << (d ? "x" : "") << s[d];
      os << "]";
    }
    if (grp.kind == GroupKind::Gemm) os << " (M=" << grp.m << " N=" << grp.n << " K=" << grp.k << ")";
    if (grp.kind == GroupKind::BatchedGemm)
      os << " (batch " << grp.batch << ", M=" << grp.m << " N=" << grp.n << " K=" << grp.k << ")";
    os << "\n";
  }
  return os.str();
}

std::optional<SymShape> symbolic_shape(const Graph& graph, ValueId id) {
  const ValueInfo& v = graph.value(id);
  if (v.constant.defined()) return SymShape(v.constant.shape().begin(), v.constant.shape().end());
  return v.shape;
}

bool symbolic_broadcast(const SymShape& in, const SymShape& out, std::vector<bool>& broadcast) {
  if (in.size() > out.size()) return false;
  broadcast.assign(in.size(), false);
  const size_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    const SymExpr& i = in[d];
    const SymExpr& o = out[offset + d];
    if (i.equals(o)) continue;
    if (i.is_const() && i.const_value() == 1) {
      broadcast[d] = true;
      continue;
    }
    return false;
  }
  return true;
}

Expected<FusionPlan> plan_fusion(const Region& region, const SignatureWords& signature, bool generic,
                                 const PlanFeatures& features) {
  if (region.kind != RegionKind::Compute)
    return make_error(StatusCode::Unsupported, region.label(), " is a ", region_kind_name(region.kind),
                      " region; only compute regions are compiled");
  if (!region.shapes_closed)
    return make_error(StatusCode::Unsupported, region.label(),
                      ": its shapes are not all known from its input shapes (shape propagation left some open)");
  FusionPlan plan;
  plan.generic = generic;
  plan.graph = region.graph;
  plan.region = &region;
  plan.signature = signature;
  std::map<std::string, int64_t> symbols;
  DJ_RETURN_IF_ERROR(bind_inputs(region, signature, plan.shapes, symbols));
  const Graph& g = *region.graph;
  for (int32_t n = region.first_node; n < region.end_node; ++n) {
    const Node& node = g.nodes[static_cast<size_t>(n)];
    for (ValueId id : node.inputs) {
      if (id == kNoValue || plan.shapes.count(id)) continue;
      const ValueInfo& v = g.value(id);
      if (!v.constant.defined())
        return make_error(StatusCode::Internal, "value '", v.name, "' is read before it is known");
      plan.shapes[id] = v.constant.shape();
    }
    for (ValueId id : node.outputs) {
      if (id == kNoValue) continue;
      const ValueInfo& v = g.value(id);
      if (!v.shape) return make_error(StatusCode::Unsupported, "the shape of '", v.name, "' is not known");
      Shape s;
      for (const SymExpr& d : *v.shape) {
        auto value = d.evaluate(symbols);
        if (!value || *value < 0)
          return make_error(StatusCode::Unsupported, "dim ", d.to_string(), " of '", v.name,
                            "' does not follow from the region's inputs");
        s.push_back(*value);
      }
      plan.shapes[id] = std::move(s);
    }
  }
  Planner(plan, features).run();
  return plan;
}

}  // namespace dj::specializer
