// RegionPlan::build: cuts each graph into Compute / Control / DataDependent
// regions and finds router sites. See Region.h for the rules.
#include "runtime/Region.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_set>

namespace dj {
namespace {

bool is_control_op(const std::string& op) { return op == "If" || op == "Loop" || op == "Scan"; }

// Ops whose output size is decided by the values they compute, whatever is known.
bool always_value_dependent(const std::string& op) {
  return op == "NonZero" || op == "Unique" || op == "Compress" || op == "NonMaxSuppression";
}

// Inputs whose *values* decide an op's output shape.
std::vector<size_t> shape_deciding_inputs(const std::string& op) {
  if (op == "Reshape" || op == "Expand" || op == "Tile" || op == "Pad" || op == "OneHot" || op == "TopK" ||
      op == "Upsample" || op == "Squeeze" || op == "Unsqueeze" || op == "Split" || op == "ReduceSum")
    return {1};
  if (op == "Slice") return {1, 2, 3, 4};
  if (op == "ConstantOfShape") return {0};
  if (op == "Range") return {0, 1, 2};
  if (op == "Resize") return {1, 2, 3};
  return {};
}

void symbols_of(const std::optional<SymShape>& shape, std::set<std::string>& out) {
  if (!shape) return;
  std::vector<std::string> names;
  for (const SymExpr& d : *shape) d.collect_symbols(names);
  out.insert(names.begin(), names.end());
}

bool has_data_dependent_symbol_outside(const SymShape& shape, const std::set<std::string>& known) {
  for (const SymExpr& d : shape) {
    if (!d.is_data_dependent()) continue;
    std::vector<std::string> names;
    d.collect_symbols(names);
    for (const std::string& n : names)
      if (!known.count(n)) return true;
  }
  return false;
}

// Whether running `node` is the point where a size becomes known only at run time.
bool introduces_runtime_dim(const Graph& graph, const Node& node) {
  if (always_value_dependent(node.op_type)) return true;
  for (size_t i : shape_deciding_inputs(node.op_type)) {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) continue;
    const ValueInfo& v = graph.value(node.inputs[i]);
    if (!v.constant.defined() && !v.sym_values) return true;
  }
  std::set<std::string> known;
  for (ValueId id : node.inputs)
    if (id != kNoValue) symbols_of(graph.value(id).shape, known);
  for (ValueId id : node.outputs) {
    if (id == kNoValue) continue;
    const ValueInfo& v = graph.value(id);
    if (v.shape && has_data_dependent_symbol_outside(*v.shape, known)) return true;
  }
  return false;
}

std::string value_text(const Graph& g, ValueId id) {
  if (id == kNoValue) return "<none>";
  const ValueInfo& v = g.value(id);
  std::string s = "%" + v.name + ":" + (v.dtype ? dtype_name(*v.dtype) : std::string("?"));
  s += v.shape ? sym_shape_to_string(*v.shape) : std::string("[?]");
  if (v.constant.defined()) s += " const";
  return s;
}

// A stack of enclosing graphs, innermost last, to see through captures.
using GraphStack = std::vector<const Graph*>;

bool is_weight(const GraphStack& stack, size_t depth, ValueId id) {
  const Graph& g = *stack[depth];
  if (g.value(id).constant.defined()) return true;
  if (depth == 0) return false;
  for (const Capture& c : g.captures)
    if (c.local == id) return is_weight(stack, depth - 1, c.outer);
  return false;
}

class RouterFinder {
 public:
  RouterFinder(const GraphStack& stack) : stack_(stack), graph_(*stack.back()) {
    for (size_t n = 0; n < graph_.nodes.size(); ++n)
      for (ValueId id : graph_.nodes[n].inputs)
        if (id != kNoValue) consumers_[id].push_back(static_cast<int32_t>(n));
  }

  std::optional<RouterSite> site(int32_t n) const {
    const Node& node = graph_.nodes[static_cast<size_t>(n)];
    RouterSite s;
    s.node = n;
    if (node.op_type == "ArgMax") {
      s.indices_output = 0;
      s.axis = node.attr_int("axis", 0);
    } else if (node.op_type == "TopK") {
      s.indices_output = 1;
      s.axis = node.attr_int("axis", -1);
    } else {
      return std::nullopt;
    }
    if (static_cast<size_t>(s.indices_output) >= node.outputs.size() || node.outputs[s.indices_output] == kNoValue)
      return std::nullopt;
    if (!reaches_routing_op(node.outputs[s.indices_output], 0)) return std::nullopt;
    const ValueInfo& logits = graph_.value(node.inputs[0]);
    if (logits.shape) {
      int64_t rank = static_cast<int64_t>(logits.shape->size());
      int64_t axis = s.axis < 0 ? s.axis + rank : s.axis;
      if (axis >= 0 && axis < rank && (*logits.shape)[static_cast<size_t>(axis)].is_const())
        s.num_experts = (*logits.shape)[static_cast<size_t>(axis)].const_value();
    }
    return s;
  }

 private:
  // Routing: the ids pick which rows of *activations* go where (not an embedding
  // lookup into a weight table, which a greedy decoder's ArgMax->Gather is).
  bool reaches_routing_op(ValueId id, int depth) const {
    auto it = consumers_.find(id);
    if (it == consumers_.end() || depth > 4) return false;
    for (int32_t c : it->second) {
      const Node& use = graph_.nodes[static_cast<size_t>(c)];
      const std::string& op = use.op_type;
      if (op == "NonZero" || op == "ScatterND" || op == "ScatterElements" || op == "OneHot") return true;
      if ((op == "Gather" || op == "GatherElements" || op == "GatherND") && use.inputs.size() > 1 &&
          use.inputs[1] == id && !is_weight(stack_, stack_.size() - 1, use.inputs[0]))
        return true;
      bool passes = op == "Equal" || op == "Cast" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" ||
                    op == "Flatten" || op == "Transpose" || op == "Identity" || op == "Slice" || op == "Split";
      if (passes)
        for (ValueId out : use.outputs)
          if (out != kNoValue && reaches_routing_op(out, depth + 1)) return true;
    }
    return false;
  }

  const GraphStack& stack_;
  const Graph& graph_;
  std::unordered_map<ValueId, std::vector<int32_t>> consumers_;
};

}  // namespace

const char* region_kind_name(RegionKind kind) {
  switch (kind) {
    case RegionKind::Compute: return "compute";
    case RegionKind::Control: return "control";
    case RegionKind::DataDependent: return "data-dependent";
  }
  return "?";
}

std::string Region::describe() const {
  std::ostringstream os;
  os << label() << " " << region_kind_name(kind) << " " << graph_path << " nodes " << first_node << ".."
     << (end_node - 1) << " (" << num_nodes() << (num_nodes() == 1 ? " op" : " ops") << ":";
  std::vector<std::string> ops;
  for (int32_t n = first_node; n < end_node && ops.size() < 6; ++n)
    ops.push_back(graph->nodes[static_cast<size_t>(n)].op_type);
  for (const std::string& op : ops) os << " " << op;
  if (num_nodes() > static_cast<int32_t>(ops.size())) os << " ...";
  os << ")";
  os << "\n    in:";
  if (inputs.empty()) os << " (none)";
  for (ValueId id : inputs) os << " " << value_text(*graph, id);
  os << "\n    out:";
  if (outputs.empty()) os << " (none)";
  for (ValueId id : outputs) os << " " << value_text(*graph, id);
  if (kind == RegionKind::Compute) {
    os << "\n    shapes: " << (shapes_closed ? "closed over" : "NOT closed over") << " {";
    for (size_t i = 0; i < bound_symbols.size(); ++i) os << (i ? "," : "") << bound_symbols[i];
    os << "}";
  }
  for (const RouterSite& r : routers)
    os << "\n    router: node " << r.node << " (" << graph->nodes[static_cast<size_t>(r.node)].op_type << ") over "
       << (r.num_experts ? std::to_string(*r.num_experts) : std::string("?")) << " experts";
  return os.str();
}

std::string Region::ir_text() const {
  std::ostringstream os;
  os << label() << " (" << region_kind_name(kind) << ", " << graph_path << ")\n";
  os << "  inputs:";
  for (ValueId id : inputs) os << " " << value_text(*graph, id);
  os << "\n";
  for (int32_t n = first_node; n < end_node; ++n) {
    const Node& node = graph->nodes[static_cast<size_t>(n)];
    os << "  [" << n << "] ";
    for (size_t i = 0; i < node.outputs.size(); ++i) os << (i ? ", " : "") << value_text(*graph, node.outputs[i]);
    os << " = " << node.op_type << "(";
    for (size_t i = 0; i < node.inputs.size(); ++i) os << (i ? ", " : "") << value_text(*graph, node.inputs[i]);
    os << ")";
    if (!node.name.empty()) os << "  # " << node.name;
    os << "\n";
  }
  os << "  outputs:";
  for (ValueId id : outputs) os << " " << value_text(*graph, id);
  os << "\n";
  return os.str();
}

std::shared_ptr<const RegionPlan> RegionPlan::build(const Model& model) {
  auto plan = std::make_shared<RegionPlan>();
  GraphStack enclosing;
  plan->cut_graph(*model.graph, "main", enclosing);
  return plan;
}

const std::vector<int32_t>& RegionPlan::regions_of(const Graph* graph) const {
  static const std::vector<int32_t> kNone;
  auto it = by_graph_.find(graph);
  return it == by_graph_.end() ? kNone : it->second;
}

namespace {

void fill_boundary(Region& r) {
  const Graph& g = *r.graph;
  std::unordered_set<ValueId> produced, seen;
  for (int32_t n = r.first_node; n < r.end_node; ++n) {
    const Node& node = g.nodes[static_cast<size_t>(n)];
    auto read = [&](ValueId id) {
      if (id == kNoValue || produced.count(id) || g.value(id).constant.defined()) return;
      if (seen.insert(id).second) r.inputs.push_back(id);
    };
    for (ValueId id : node.inputs) read(id);
    for (ValueId id : node.implicit_inputs) read(id);
    for (ValueId id : node.outputs)
      if (id != kNoValue) produced.insert(id);
  }
  std::unordered_set<ValueId> graph_outputs(g.outputs.begin(), g.outputs.end());
  for (int32_t n = r.first_node; n < r.end_node; ++n)
    for (ValueId id : g.nodes[static_cast<size_t>(n)].outputs) {
      if (id == kNoValue) continue;
      if (graph_outputs.count(id) || g.last_use[static_cast<size_t>(id)] >= r.end_node) r.outputs.push_back(id);
    }
  std::set<std::string> bound;
  for (ValueId id : r.inputs) {
    const ValueInfo& v = g.value(id);
    if (!v.shape) continue;
    for (const SymExpr& d : *v.shape)
      if (d.is_symbol()) bound.insert(d.symbol_name());
  }
  r.bound_symbols.assign(bound.begin(), bound.end());
  r.shapes_closed = r.kind == RegionKind::Compute;
  for (int32_t n = r.first_node; n < r.end_node && r.shapes_closed; ++n)
    for (ValueId id : g.nodes[static_cast<size_t>(n)].outputs) {
      if (id == kNoValue) continue;
      const ValueInfo& v = g.value(id);
      std::set<std::string> used;
      if (!v.shape) {
        r.shapes_closed = false;
        break;
      }
      symbols_of(v.shape, used);
      for (const std::string& s : used)
        if (!bound.count(s)) r.shapes_closed = false;
    }
}

}  // namespace

void RegionPlan::cut_graph(const Graph& graph, const std::string& path, GraphStack& stack) {
  stack.push_back(&graph);  // to tell captured weights from captured activations
  RouterFinder routers(stack);
  std::vector<int32_t>& ids = by_graph_[&graph];
  const int32_t num_nodes = static_cast<int32_t>(graph.nodes.size());

  auto open_region = [&](RegionKind kind, int32_t first) {
    Region r;
    r.id = static_cast<int32_t>(regions_.size());
    r.kind = kind;
    r.graph = &graph;
    r.graph_path = path;
    r.first_node = first;
    r.end_node = first;
    regions_.push_back(std::move(r));
    ids.push_back(regions_.back().id);
    return regions_.back().id;
  };
  int32_t open_compute = -1;
  for (int32_t n = 0; n < num_nodes; ++n) {
    const Node& node = graph.nodes[static_cast<size_t>(n)];
    bool control = is_control_op(node.op_type);
    bool dynamic = !control && introduces_runtime_dim(graph, node);
    if (!control && !dynamic) {
      if (open_compute < 0) open_compute = open_region(RegionKind::Compute, n);
      Region& r = regions_[static_cast<size_t>(open_compute)];
      r.end_node = n + 1;
      if (auto site = routers.site(n)) r.routers.push_back(*site);
      continue;
    }
    if (open_compute >= 0) fill_boundary(regions_[static_cast<size_t>(open_compute)]);
    open_compute = -1;
    int32_t id = open_region(control ? RegionKind::Control : RegionKind::DataDependent, n);
    regions_[static_cast<size_t>(id)].end_node = n + 1;
    fill_boundary(regions_[static_cast<size_t>(id)]);
    if (control) {
      if (node.op_type == "If") regions_[static_cast<size_t>(id)].if_then_branch = node.attr_graph("then_branch");
      for (const auto& [key, attr] : node.attributes) {
        if (attr.kind != Attribute::Kind::Graph || !attr.g) continue;
        std::string sub_path = path + "/" + node.op_type + ":" + (node.name.empty() ? std::to_string(n) : node.name) +
                               "/" + key;
        int32_t first_child = static_cast<int32_t>(regions_.size());
        cut_graph(*attr.g, sub_path, stack);
        if (static_cast<size_t>(first_child) < regions_.size())
          regions_[static_cast<size_t>(id)].child_regions.push_back(first_child);
      }
    }
  }
  if (open_compute >= 0) fill_boundary(regions_[static_cast<size_t>(open_compute)]);
  stack.pop_back();
}

}  // namespace dj
