// infer_shapes: runs each node's shape function in order, subgraphs first.
#include "runtime/ShapeInference.h"

#include "runtime/Log.h"
#include "runtime/OpRegistry.h"

namespace dj {
namespace {

void infer_graph(Graph& graph, int64_t opset, int* fresh_counter, const Graph* parent) {
  // A capture sees what the parent knows of the outer value.
  if (parent) {
    for (const Capture& c : graph.captures) {
      ValueInfo& local = graph.value(c.local);
      const ValueInfo& outer = parent->value(c.outer);
      std::string name = local.name;
      local = outer;
      local.name = name;
    }
  }
  for (Node& node : graph.nodes) {
    for (auto& [key, attr] : node.attributes)
      if (attr.g) infer_graph(*attr.g, opset, fresh_counter, &graph);
    if (!node.schema || !node.schema->infer) continue;
    std::vector<const ValueInfo*> inputs;
    for (ValueId id : node.inputs) inputs.push_back(id == kNoValue ? nullptr : &graph.value(id));
    std::vector<ValueInfo*> outputs;
    for (ValueId id : node.outputs) outputs.push_back(id == kNoValue ? nullptr : &graph.value(id));
    // Keep the declared info (value_info) to fall back on if the function gives up.
    std::vector<ValueInfo> declared;
    for (ValueInfo* o : outputs) declared.push_back(o ? *o : ValueInfo{});
    ShapeContext ctx(node, opset, std::move(inputs), outputs, fresh_counter);
    Status st;
    try {
      st = node.schema->infer(ctx);
    } catch (const std::exception& e) {
      st = Status(StatusCode::Internal, e.what());
    }
    if (!st.ok()) {
      DJ_LOG_DEBUG("shape inference gave up at " << node.describe() << ": " << st.message());
      // Leave what was declared; the kernel checks at run time.
      for (size_t i = 0; i < outputs.size(); ++i)
        if (outputs[i]) *outputs[i] = declared[i];
    }
  }
}

}  // namespace

void infer_shapes(Graph& graph, int64_t opset) {
  int fresh_counter = 0;
  infer_graph(graph, opset, &fresh_counter, nullptr);
}

}  // namespace dj
