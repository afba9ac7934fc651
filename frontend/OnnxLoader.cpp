// ONNX ModelProto -> dj::Model: scopes and captures, attributes, topological
// order, op resolution against the registry, then shape propagation.
#include "frontend/OnnxLoader.h"

#include "frontend/WeightLayout.h"

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "frontend/OnnxTensor.h"
#include "frontend/WeightLayout.h"
#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"
#include "runtime/OpRegistry.h"
#include "runtime/ShapeInference.h"

namespace dj {
namespace {

constexpr int64_t kMaxOpset = 17;
constexpr int64_t kMaxIrVersion = 8;

// A chain of graphs being built: names not found locally are looked up outward
// and become captures.
struct Scope {
  Graph* graph;
  Scope* parent;
};

ValueId resolve(Scope& scope, const std::string& name) {
  ValueId id = scope.graph->find_value(name);
  if (id != kNoValue || !scope.parent) return id;
  ValueId outer = resolve(*scope.parent, name);
  if (outer == kNoValue) return kNoValue;
  ValueId local = scope.graph->add_value(name);
  scope.graph->value(local) = scope.parent->graph->value(outer);
  scope.graph->value(local).constant = Tensor();  // captured at run time, not an initializer here
  scope.graph->value(local).name = name;
  scope.graph->captures.push_back({local, outer});
  return local;
}

Status value_info_from_type(const onnx::TypeProto& type, const std::string& name, ValueInfo& info) {
  if (type.value_case() == onnx::TypeProto::VALUE_NOT_SET) return {};
  if (!type.has_tensor_type()) {
    const char* kind = type.has_sequence_type() ? "sequence" : type.has_optional_type() ? "optional"
                       : type.has_map_type()    ? "map"      : "non-tensor";
    return make_error(StatusCode::Unsupported, "value '", name, "' has a ", kind,
                      " type; DynaJIT supports tensor values only");
  }
  const auto& tt = type.tensor_type();
  if (tt.elem_type() != 0) {
    auto dtype = dtype_from_onnx(tt.elem_type());
    if (!dtype)
      return make_error(StatusCode::Unsupported, "value '", name, "' has element type ",
                        onnx::TensorProto_DataType_IsValid(tt.elem_type())
                            ? onnx::TensorProto_DataType_Name(tt.elem_type())
                            : std::to_string(tt.elem_type()),
                        ", which DynaJIT does not support");
    info.dtype = dtype;
  }
  if (tt.has_shape()) {
    SymShape shape;
    int d = 0;
    for (const auto& dim : tt.shape().dim()) {
      if (dim.has_dim_value()) {
        if (dim.dim_value() < 0)
          return make_error(StatusCode::InvalidModel, "value '", name, "' has a negative dimension");
        shape.push_back(dim.dim_value());
      } else if (dim.has_dim_param() && !dim.dim_param().empty()) {
        shape.push_back(SymExpr::symbol(dim.dim_param()));
      } else {
        shape.push_back(SymExpr::symbol(name + "_dim" + std::to_string(d)));  // unnamed: its own symbol
      }
      ++d;
    }
    info.shape = std::move(shape);
  }
  return {};
}

class GraphBuilder {
 public:
  GraphBuilder(const OpRegistry& registry, int64_t opset) : registry_(registry), opset_(opset) {}

  Expected<std::shared_ptr<Graph>> build(const onnx::GraphProto& proto, Scope* parent) {
    auto graph = std::make_shared<Graph>();
    graph->name = proto.name();
    Scope scope{graph.get(), parent};

    if (proto.sparse_initializer_size() > 0)
      return make_error(StatusCode::Unsupported, "graph '", proto.name(), "' has sparse initializers");
    std::set<std::string> initializer_names;
    for (const auto& init : proto.initializer()) {
      if (init.name().empty()) return make_error(StatusCode::InvalidModel, "an initializer has no name");
      auto t = tensor_from_proto(init);
      if (!t.ok()) return t.status().with_context("initializer '" + init.name() + "': ");
      ValueId id = graph->add_value(init.name());
      ValueInfo& info = graph->value(id);
      info.dtype = t->dtype();
      info.shape = SymShape(t->shape().begin(), t->shape().end());
      info.constant = std::move(t).value();
      info.constant.mark_model_constant();
      graph->initializers.push_back(id);
      initializer_names.insert(init.name());
    }
    for (const auto& in : proto.input()) {
      if (initializer_names.count(in.name())) continue;  // IR < 4 lists initializers as inputs too
      if (graph->find_value(in.name()) != kNoValue)
        return make_error(StatusCode::InvalidModel, "graph input '", in.name(), "' is declared twice");
      ValueId id = graph->add_value(in.name());
      DJ_RETURN_IF_ERROR(value_info_from_type(in.type(), in.name(), graph->value(id)));
      graph->inputs.push_back(id);
    }
    std::map<std::string, const onnx::ValueInfoProto*> declared;
    for (const auto& vi : proto.value_info()) declared[vi.name()] = &vi;
    for (const auto& vi : proto.output()) declared[vi.name()] = &vi;

    DJ_ASSIGN_OR_RETURN(std::vector<int> order, topological_order(proto, *graph, scope));
    for (int index : order) DJ_RETURN_IF_ERROR(add_node(proto.node(index), index, scope, declared));

    for (const auto& out : proto.output()) {
      ValueId id = resolve(scope, out.name());
      if (id == kNoValue)
        return make_error(StatusCode::InvalidModel, "graph output '", out.name(), "' is not produced by any node");
      ValueInfo& info = graph->value(id);
      if (!info.dtype && !info.shape) DJ_RETURN_IF_ERROR(value_info_from_type(out.type(), out.name(), info));
      graph->outputs.push_back(id);
    }
    return graph;
  }

 private:
  // Names a node reads, including those its subgraphs read from outside.
  static void referenced_names(const onnx::NodeProto& node, std::set<std::string>& out) {
    for (const auto& in : node.input())
      if (!in.empty()) out.insert(in);
    for (const auto& attr : node.attribute()) {
      auto visit = [&](const onnx::GraphProto& g) {
        for (const auto& n : g.node()) referenced_names(n, out);
        for (const auto& o : g.output()) out.insert(o.name());
      };
      if (attr.has_g()) visit(attr.g());
      for (const auto& g : attr.graphs()) visit(g);
    }
  }

  // ONNX requires topological order, but exporters occasionally break it: sort (stably).
  Expected<std::vector<int>> topological_order(const onnx::GraphProto& proto, const Graph& graph, Scope& scope) {
    const int n = proto.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const auto& out : proto.node(i).output())
        if (!out.empty()) producer[out] = i;
    std::vector<std::vector<int>> deps(n);
    for (int i = 0; i < n; ++i) {
      std::set<std::string> names;
      referenced_names(proto.node(i), names);
      for (const auto& name : names) {
        auto it = producer.find(name);
        if (it != producer.end() && it->second != i) deps[i].push_back(it->second);
      }
    }
    std::vector<int> order;
    std::vector<int> state(n, 0);  // 0 new, 1 visiting, 2 done
    std::function<Status(int)> visit = [&](int i) -> Status {
      if (state[i] == 2) return {};
      if (state[i] == 1)
        return make_error(StatusCode::InvalidModel, "the graph has a cycle through node '", proto.node(i).name(), "'");
      state[i] = 1;
      for (int d : deps[i]) DJ_RETURN_IF_ERROR(visit(d));
      state[i] = 2;
      order.push_back(i);
      return {};
    };
    for (int i = 0; i < n; ++i) DJ_RETURN_IF_ERROR(visit(i));
    return order;
  }

  Status convert_attribute(const onnx::AttributeProto& a, Scope& scope, Attribute& out) {
    using A = onnx::AttributeProto;
    switch (a.type()) {
      case A::FLOAT: out.kind = Attribute::Kind::Float; out.f = a.f(); break;
      case A::INT: out.kind = Attribute::Kind::Int; out.i = a.i(); break;
      case A::STRING: out.kind = Attribute::Kind::String; out.s = a.s(); break;
      case A::FLOATS: out.kind = Attribute::Kind::Floats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
      case A::INTS: out.kind = Attribute::Kind::Ints; out.ints.assign(a.ints().begin(), a.ints().end()); break;
      case A::STRINGS: out.kind = Attribute::Kind::Strings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
      case A::TENSOR: {
        out.kind = Attribute::Kind::Tensor;
        auto t = tensor_from_proto(a.t());
        if (!t.ok()) return t.status();
        out.t = std::move(t).value();
        break;
      }
      case A::GRAPH: {
        out.kind = Attribute::Kind::Graph;
        auto g = build(a.g(), &scope);
        if (!g.ok()) return g.status().with_context("in subgraph '" + a.name() + "': ");
        out.g = std::move(g).value();
        break;
      }
      default:
        return make_error(StatusCode::Unsupported, "attribute '", a.name(), "' has kind ",
                          A::AttributeType_Name(a.type()), ", which DynaJIT does not support");
    }
    return {};
  }

  Status add_node(const onnx::NodeProto& proto, int index, Scope& scope,
                  const std::map<std::string, const onnx::ValueInfoProto*>& declared) {
    Graph& graph = *scope.graph;
    Node node;
    node.op_type = proto.op_type();
    node.domain = proto.domain();
    node.name = proto.name().empty() ? proto.op_type() + "_" + std::to_string(index) : proto.name();
    node.schema = registry_.find(node.domain, node.op_type);
    if (!node.schema)
      return make_error(StatusCode::Unsupported, "unsupported op '", node.op_type, "'",
                        node.domain.empty() ? "" : " (domain '" + node.domain + "')", " at node '", node.name,
                        "'");
    for (const auto& in : proto.input()) {
      if (in.empty()) {
        node.inputs.push_back(kNoValue);
        continue;
      }
      ValueId id = resolve(scope, in);
      if (id == kNoValue)
        return make_error(StatusCode::InvalidModel, node.describe(), " reads '", in, "', which nothing defines");
      node.inputs.push_back(id);
    }
    for (const auto& a : proto.attribute()) {
      Attribute attr;
      DJ_RETURN_IF_ERROR(convert_attribute(a, scope, attr).with_context(node.describe() + ": "));
      node.attributes[a.name()] = std::move(attr);
    }
    // Outer values the subgraphs capture become implicit inputs of this node.
    for (const auto& [key, attr] : node.attributes) {
      if (!attr.g) continue;
      for (const Capture& c : attr.g->captures)
        if (std::find(node.implicit_inputs.begin(), node.implicit_inputs.end(), c.outer) == node.implicit_inputs.end())
          node.implicit_inputs.push_back(c.outer);
    }
    for (const auto& out : proto.output()) {
      if (out.empty()) {
        node.outputs.push_back(kNoValue);
        continue;
      }
      if (graph.find_value(out) != kNoValue)
        return make_error(StatusCode::InvalidModel, node.describe(), " writes '", out,
                          "', which is already defined (ONNX graphs are single-assignment)");
      ValueId id = graph.add_value(out);
      auto it = declared.find(out);
      if (it != declared.end()) {
        Status st = value_info_from_type(it->second->type(), out, graph.value(id));
        if (st.code() == StatusCode::Unsupported) return st.with_context(node.describe() + ": ");
      }
      node.outputs.push_back(id);
    }
    graph.nodes.push_back(std::move(node));
    return {};
  }

  const OpRegistry& registry_;
  int64_t opset_;
};

void finalize_recursive(Graph& g) {
  for (Node& n : g.nodes)
    for (auto& [key, attr] : n.attributes)
      if (attr.g) finalize_recursive(*attr.g);
  g.finalize();
}

Expected<Model> model_from_proto(const onnx::ModelProto& proto, const std::string& source) {
  if (!proto.has_graph())
    return make_error(StatusCode::InvalidModel, source, ": not an ONNX model (no graph)");
  if (proto.ir_version() < 3)
    return make_error(StatusCode::InvalidModel, source, ": IR version ", proto.ir_version(),
                      " is not an ONNX model DynaJIT can read (need 3..", kMaxIrVersion, ")");
  Model model;
  model.ir_version = proto.ir_version();
  model.producer = proto.producer_name();
  model.source = source;
  int64_t opset = -1;
  for (const auto& imp : proto.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = imp.version();
  // A model of only other-domain ops (e.g. ai.onnx.preview.training) imports no default opset;
  // its nodes are then reported as unsupported ops of their domain.
  if (opset < 0) opset = kMaxOpset;
  if (opset > kMaxOpset)
    return make_error(StatusCode::Unsupported, source, ": opset ", opset, " is newer than DynaJIT supports (up to ",
                      kMaxOpset, ")");
  model.opset = opset;
  GraphBuilder builder(OpRegistry::builtin(), opset);
  auto graph = builder.build(proto.graph(), nullptr);
  if (!graph.ok()) return graph.status().with_context(source + ": ");
  if ((*graph)->outputs.empty()) return make_error(StatusCode::InvalidModel, source, ": the graph has no outputs");
  model.graph = std::move(graph).value();
  store_gemm_weights_untransposed(*model.graph);
  infer_shapes(*model.graph, model.opset);
  finalize_recursive(*model.graph);
  return model;
}

}  // namespace

Expected<Model> load_onnx_bytes(const void* data, size_t size, const std::string& source) {
  if (!data || size == 0) return make_error(StatusCode::InvalidModel, source, ": empty model");
  if (size > static_cast<size_t>(INT32_MAX))
    return make_error(StatusCode::Unsupported, source, ": models over 2 GB (external data) are not supported");
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size)))
    return make_error(StatusCode::InvalidModel, source,
                      ": not a valid ONNX protobuf (truncated or corrupt file, or not ONNX)");
  return model_from_proto(proto, source);
}

Expected<Model> load_onnx_text(const std::string& text, const std::string& source) {
  onnx::ModelProto proto;
  onnx::OnnxParser parser(text.c_str());
  auto status = parser.Parse(proto);
  if (!status.IsOK())
    return make_error(StatusCode::InvalidModel, source, ": ONNX text syntax error: ", status.ErrorMessage());
  if (proto.ir_version() == 0) proto.set_ir_version(kMaxIrVersion);
  return model_from_proto(proto, source);
}

Expected<Model> load_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(StatusCode::IoError, "cannot open model file '", path, "'");
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return make_error(StatusCode::IoError, "error reading model file '", path, "'");
  std::string bytes = buf.str();
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (bytes[first] == '<' || bytes.compare(first, 6, "agraph") == 0))
    return load_onnx_text(bytes, path);
  return load_onnx_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace dj
