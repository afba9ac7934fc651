// Graph and Node accessors, value bookkeeping, lifetime analysis.
#include "runtime/Graph.h"

namespace dj {

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.i;
}
float Node::attr_float(const std::string& key, float fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.f;
}
std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.s;
}
std::vector<int64_t> Node::attr_ints(const std::string& key, const std::vector<int64_t>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.ints;
}
std::vector<float> Node::attr_floats(const std::string& key, const std::vector<float>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.floats;
}
const Graph* Node::attr_graph(const std::string& key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : it->second.g.get();
}
std::string Node::describe() const { return "node '" + name + "' (" + op_type + ")"; }

ValueId Graph::add_value(const std::string& value_name) {
  ValueId id = static_cast<ValueId>(values.size());
  ValueInfo info;
  info.name = value_name;
  values.push_back(std::move(info));
  if (!value_name.empty()) by_name_[value_name] = id;
  return id;
}

ValueId Graph::find_value(const std::string& value_name) const {
  auto it = by_name_.find(value_name);
  return it == by_name_.end() ? kNoValue : it->second;
}

void Graph::finalize() {
  last_use.assign(values.size(), -1);
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId v : nodes[n].inputs)
      if (v != kNoValue) last_use[static_cast<size_t>(v)] = static_cast<int32_t>(n);
    for (ValueId v : nodes[n].implicit_inputs)
      if (v != kNoValue) last_use[static_cast<size_t>(v)] = static_cast<int32_t>(n);
  }
  for (ValueId v : outputs) last_use[static_cast<size_t>(v)] = static_cast<int32_t>(nodes.size());
}

size_t Graph::count_nodes_recursive() const {
  size_t n = nodes.size();
  for (const auto& node : nodes)
    for (const auto& [key, attr] : node.attributes)
      if (attr.g) n += attr.g->count_nodes_recursive();
  return n;
}

}  // namespace dj
