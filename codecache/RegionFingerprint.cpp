// Canonical hashing of graph IR: a tagged, length-prefixed byte stream fed to
// SHA-256, so that no two different structures produce the same stream.
#include "codecache/RegionFingerprint.h"

#include <cstring>
#include <map>
#include <string>
#include <unordered_map>

namespace dj::codecache {
namespace {

class CanonicalHasher {
 public:
  explicit CanonicalHasher(bool constant_contents) : constant_contents_(constant_contents) {}

  // Values of one graph, numbered by first appearance; subgraphs open a child scope.
  struct Scope {
    const Graph* graph = nullptr;
    Scope* parent = nullptr;
    std::unordered_map<ValueId, int64_t> number;
  };

  void tag(char t) { sha_.update(&t, 1); }
  void i64(int64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
    sha_.update(b, 8);
  }
  void str(const std::string& s) {
    i64(static_cast<int64_t>(s.size()));
    sha_.update(s);
  }
  void f32(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    i64(bits);
  }

  void sym(const SymExpr& e) {
    tag('s');
    i64(static_cast<int64_t>(e.op()));
    if (e.is_const()) {
      i64(e.const_value());
    } else if (e.is_symbol()) {
      auto [it, fresh] = symbols_.emplace(e.symbol_name(), static_cast<int64_t>(symbols_.size()));
      i64(it->second);
      i64(static_cast<int64_t>(e.symbol_kind()));
    } else {
      i64(static_cast<int64_t>(e.operands().size()));
      for (const SymExpr& operand : e.operands()) sym(operand);
    }
  }

  void value_info(const ValueInfo& v) {
    if (v.dtype) {
      tag('t');
      i64(static_cast<int64_t>(*v.dtype));
    } else {
      tag('T');
    }
    if (v.shape) {
      tag('r');
      i64(static_cast<int64_t>(v.shape->size()));
      for (const SymExpr& d : *v.shape) sym(d);
    } else {
      tag('R');
    }
  }

  void tensor(const Tensor& t) {
    if (!t.defined()) {
      tag('u');
      return;
    }
    tag('k');
    i64(static_cast<int64_t>(t.dtype()));
    i64(t.rank());
    for (int64_t d : t.shape()) i64(d);
    if (!constant_contents_) return;
    Tensor packed = t.contiguous();
    i64(static_cast<int64_t>(packed.nbytes()));
    sha_.update(packed.raw_data(), packed.nbytes());
  }

  // A value read by a node: its number if seen, else numbered now and described.
  void ref(Scope& scope, ValueId id) {
    if (id == kNoValue) {
      tag('x');
      return;
    }
    auto it = scope.number.find(id);
    if (it != scope.number.end()) {
      tag('v');
      i64(it->second);
      return;
    }
    const int64_t n = static_cast<int64_t>(scope.number.size());
    scope.number.emplace(id, n);
    const ValueInfo& v = scope.graph->value(id);
    if (v.constant.defined()) {
      tag('c');
      tensor(v.constant);
    } else {
      tag('e');
      value_info(v);
    }
  }

  // A value a node produces (or a subgraph input): numbered now, with its info.
  void define(Scope& scope, ValueId id) {
    if (id == kNoValue) {
      tag('x');
      return;
    }
    const int64_t n = static_cast<int64_t>(scope.number.size());
    auto [it, fresh] = scope.number.emplace(id, n);
    tag(fresh ? 'd' : 'D');  // 'D': a value produced twice (malformed, but hashed deterministically)
    i64(it->second);
    value_info(scope.graph->value(id));
  }

  void attribute(Scope& scope, const Attribute& a) {
    i64(static_cast<int64_t>(a.kind));
    switch (a.kind) {
      case Attribute::Kind::Float: f32(a.f); break;
      case Attribute::Kind::Int: i64(a.i); break;
      case Attribute::Kind::String: str(a.s); break;
      case Attribute::Kind::Tensor: tensor(a.t); break;
      case Attribute::Kind::Graph:
        if (a.g) {
          subgraph(scope, *a.g);
        } else {
          tag('u');
        }
        break;
      case Attribute::Kind::Floats:
        i64(static_cast<int64_t>(a.floats.size()));
        for (float f : a.floats) f32(f);
        break;
      case Attribute::Kind::Ints:
        i64(static_cast<int64_t>(a.ints.size()));
        for (int64_t v : a.ints) i64(v);
        break;
      case Attribute::Kind::Strings:
        i64(static_cast<int64_t>(a.strings.size()));
        for (const std::string& s : a.strings) str(s);
        break;
    }
  }

  void node(Scope& scope, const Node& n) {
    tag('N');
    str(n.op_type);
    str(n.domain);
    i64(static_cast<int64_t>(n.inputs.size()));
    for (ValueId id : n.inputs) ref(scope, id);
    // Before the attributes, so the outer values a subgraph captures are numbered here.
    i64(static_cast<int64_t>(n.implicit_inputs.size()));
    for (ValueId id : n.implicit_inputs) ref(scope, id);
    i64(static_cast<int64_t>(n.attributes.size()));
    for (const auto& [key, value] : n.attributes) {  // std::map: sorted by name
      str(key);
      attribute(scope, value);
    }
    i64(static_cast<int64_t>(n.outputs.size()));
    for (ValueId id : n.outputs) define(scope, id);
  }

  void nodes(Scope& scope, int32_t first, int32_t end) {
    i64(end - first);
    for (int32_t i = first; i < end; ++i) node(scope, scope.graph->nodes[static_cast<size_t>(i)]);
  }

  void subgraph(Scope& parent, const Graph& g) {
    tag('G');
    Scope scope{&g, &parent, {}};
    i64(static_cast<int64_t>(g.inputs.size()));
    for (ValueId id : g.inputs) define(scope, id);
    i64(static_cast<int64_t>(g.captures.size()));
    for (const Capture& c : g.captures) {
      define(scope, c.local);
      ref(parent, c.outer);
    }
    nodes(scope, 0, static_cast<int32_t>(g.nodes.size()));
    i64(static_cast<int64_t>(g.outputs.size()));
    for (ValueId id : g.outputs) ref(scope, id);
  }

  Sha256& sha() { return sha_; }

 private:
  bool constant_contents_;
  Sha256 sha_;
  std::map<std::string, int64_t> symbols_;
};

}  // namespace

Digest256 fingerprint_region(const Region& region, int64_t opset) {
  CanonicalHasher h(/*constant_contents=*/true);
  h.sha().update("dynajit-region-v1");
  h.i64(opset);
  h.i64(static_cast<int64_t>(region.kind));
  if (region.graph == nullptr) return h.sha().finish();
  CanonicalHasher::Scope scope{region.graph, nullptr, {}};
  // The region's inputs first, in Region::inputs order: a signature's words follow
  // that order, so it is part of what the compiled code expects.
  h.tag('I');
  h.i64(static_cast<int64_t>(region.inputs.size()));
  for (ValueId id : region.inputs) h.ref(scope, id);
  h.nodes(scope, region.first_node, region.end_node);
  h.tag('O');
  h.i64(static_cast<int64_t>(region.outputs.size()));
  for (ValueId id : region.outputs) h.ref(scope, id);
  return h.sha().finish();
}

Digest256 fingerprint_model(const Model& model, const RegionPlan& plan) {
  std::vector<Digest256> regions;
  regions.reserve(plan.size());
  for (const Region& r : plan.regions()) regions.push_back(fingerprint_region(r, model.opset));
  return fingerprint_model(model, plan, regions);
}

Digest256 fingerprint_model(const Model& model, const RegionPlan& plan, const std::vector<Digest256>& regions) {
  CanonicalHasher h(/*constant_contents=*/false);
  h.sha().update("dynajit-model-v1");
  h.i64(model.opset);
  h.i64(static_cast<int64_t>(plan.size()));
  for (const Digest256& d : regions) h.sha().update(d.bytes.data(), d.bytes.size());
  if (model.graph) {
    const Graph& g = *model.graph;
    CanonicalHasher::Scope scope{&g, nullptr, {}};
    h.i64(static_cast<int64_t>(g.inputs.size()));
    for (ValueId id : g.inputs) h.define(scope, id);
    h.nodes(scope, 0, static_cast<int32_t>(g.nodes.size()));
    h.i64(static_cast<int64_t>(g.outputs.size()));
    for (ValueId id : g.outputs) h.ref(scope, id);
  }
  return h.sha().finish();
}

}  // namespace dj::codecache
