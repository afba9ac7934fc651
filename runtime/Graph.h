// The graph IR: values, nodes, attributes, (sub)graphs and the model around them.
//
// A Graph owns its values (indexed by ValueId) and its nodes in topological
// order. Subgraphs (If branches, Loop/Scan bodies) are Graph attributes of their
// node. A subgraph never names an outer value directly: each outer value it uses
// is a Capture (a local value bound, at run time, to the parent frame's value),
// and the owning node lists those outer values as implicit inputs, so lifetimes
// and dependencies stay explicit. After load a Graph is immutable and shared by
// every thread that runs the model.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/DType.h"
#include "runtime/SymExpr.h"
#include "runtime/Tensor.h"

namespace dj {

class Graph;
struct OpSchema;

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

// What is known about a value at load time.
struct ValueInfo {
  std::string name;
  std::optional<DType> dtype;              // nullopt: not known
  std::optional<SymShape> shape;           // nullopt: rank not known
  Tensor constant;                         // defined for initializers and Constant outputs
  // For small integer tensors that hold dimensions (outputs of Shape, and what is
  // computed from them): the symbolic value of each element, so that a Reshape fed
  // by Shape->Gather->Concat still gets a symbolic output shape.
  std::optional<std::vector<SymExpr>> sym_values;
};

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings };
  Kind kind = Kind::Int;
  float f = 0;
  int64_t i = 0;
  std::string s;
  dj::Tensor t;
  std::shared_ptr<dj::Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                 // "" for the default ONNX domain
  std::vector<ValueId> inputs;        // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;       // kNoValue for an omitted optional output
  std::map<std::string, Attribute> attributes;
  std::vector<ValueId> implicit_inputs;  // outer values its subgraphs capture
  const OpSchema* schema = nullptr;      // resolved by the loader

  bool has_attr(const std::string& key) const { return attributes.count(key) != 0; }
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key, const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> attr_floats(const std::string& key, const std::vector<float>& fallback = {}) const;
  const Graph* attr_graph(const std::string& key) const;  // nullptr if absent
  std::string describe() const;                           // "node 'name' (OpType)"
};

struct Capture {
  ValueId local;  // value in this (sub)graph
  ValueId outer;  // value in the parent graph
};

class Graph {
 public:
  std::string name;
  std::vector<ValueInfo> values;
  std::vector<Node> nodes;            // topological order
  std::vector<ValueId> inputs;        // runtime inputs (initializers excluded)
  std::vector<ValueId> outputs;
  std::vector<ValueId> initializers;  // values whose ValueInfo::constant is set at load
  std::vector<Capture> captures;      // outer values this subgraph reads
  // Filled by finalize(): for each value, the index of the last node that reads it
  // (-1 if none); graph outputs are never released early.
  std::vector<int32_t> last_use;

  ValueId add_value(const std::string& value_name);
  ValueId find_value(const std::string& value_name) const;  // kNoValue if absent
  const ValueInfo& value(ValueId id) const { return values[static_cast<size_t>(id)]; }
  ValueInfo& value(ValueId id) { return values[static_cast<size_t>(id)]; }
  void finalize();  // computes last_use; call after nodes are final
  size_t count_nodes_recursive() const;

 private:
  std::map<std::string, ValueId> by_name_;
};

struct Model {
  std::shared_ptr<Graph> graph;
  int64_t opset = 17;                 // default-domain opset
  int64_t ir_version = 8;
  std::string producer;
  std::string source;                 // path or "<memory>"
};

}  // namespace dj
