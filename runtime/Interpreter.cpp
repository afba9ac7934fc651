// Interpreter: executes a graph's nodes in order over a per-run Frame.
#include "runtime/Interpreter.h"

#include <exception>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

// The values of one execution of one graph. Lives on the caller's stack.
class Frame : public SubgraphRunner {
 public:
  Frame(const Graph& graph, int64_t opset, const std::vector<Tensor>* parent_values)
      : graph_(graph), opset_(opset), parent_values_(parent_values), values_(graph.values.size()) {}

  Status bind(std::vector<Tensor> inputs) {
    if (inputs.size() != graph_.inputs.size())
      return make_error(StatusCode::InvalidArgument, "graph '", graph_.name, "' expects ", graph_.inputs.size(),
                        " inputs, got ", inputs.size());
    for (ValueId id : graph_.initializers) values_[id] = graph_.value(id).constant;
    for (size_t i = 0; i < inputs.size(); ++i) values_[graph_.inputs[i]] = std::move(inputs[i]);
    for (const Capture& c : graph_.captures) {
      if (!parent_values_ || c.outer < 0 || static_cast<size_t>(c.outer) >= parent_values_->size())
        return make_error(StatusCode::Internal, "subgraph '", graph_.name, "' capture of '",
                          graph_.value(c.local).name, "' has no parent value");
      values_[c.local] = (*parent_values_)[c.outer];
    }
    return {};
  }

  Status execute() {
    for (size_t n = 0; n < graph_.nodes.size(); ++n) {
      const Node& node = graph_.nodes[n];
      Status st = execute_node(node);
      if (!st.ok()) return st.with_context(node.describe() + ": ");  // build the message only on failure
      release_dead_values(node, static_cast<int32_t>(n));
    }
    return {};
  }

  Expected<std::vector<Tensor>> take_outputs() {
    std::vector<Tensor> out;
    out.reserve(graph_.outputs.size());
    for (ValueId id : graph_.outputs) {
      if (!values_[id].defined())
        return make_error(StatusCode::Internal, "graph output '", graph_.value(id).name, "' was never computed");
      out.push_back(values_[id]);
    }
    return out;
  }

  Expected<std::vector<Tensor>> run_subgraph(const Graph& g, std::vector<Tensor> inputs) const override {
    return run_graph(g, opset_, std::move(inputs), &values_);
  }

 private:
  Status execute_node(const Node& node) {
    if (!node.schema || !node.schema->kernel)
      return make_error(StatusCode::Unsupported, "no kernel for op '", node.op_type, "'");
    std::vector<Tensor> inputs;
    inputs.reserve(node.inputs.size());
    for (ValueId id : node.inputs) {
      if (id == kNoValue) {
        inputs.emplace_back();
        continue;
      }
      const Tensor& t = values_[id];
      if (!t.defined())
        return make_error(StatusCode::Internal, "input '", graph_.value(id).name, "' is not computed");
      inputs.push_back(t.is_contiguous() ? t : t.contiguous());
    }
    KernelContext ctx(node, opset_, std::move(inputs), this);
    try {
      DJ_RETURN_IF_ERROR(node.schema->kernel(ctx));
    } catch (const AllocationError& e) {
      return Status(StatusCode::OutOfMemory, e.what());
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::OutOfMemory, "the system refused an allocation");
    } catch (const std::exception& e) {
      return make_error(StatusCode::Internal, "kernel threw: ", e.what());
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      ValueId id = node.outputs[i];
      if (id == kNoValue) continue;
      if (!ctx.outputs()[i].defined())
        return make_error(StatusCode::Internal, "kernel did not produce output ", i, " ('",
                          graph_.value(id).name, "')");
      values_[id] = std::move(ctx.outputs()[i]);
    }
    return {};
  }

  void release_dead_values(const Node& node, int32_t n) {
    auto release = [&](ValueId id) {
      if (id != kNoValue && graph_.last_use[id] == n) values_[id] = Tensor();
    };
    for (ValueId id : node.inputs) release(id);
    for (ValueId id : node.implicit_inputs) release(id);
    for (ValueId id : node.outputs)  // outputs nobody reads
      if (id != kNoValue && graph_.last_use[id] < 0) values_[id] = Tensor();
  }

  const Graph& graph_;
  int64_t opset_;
  const std::vector<Tensor>* parent_values_;
  std::vector<Tensor> values_;
};

}  // namespace

Expected<std::vector<Tensor>> run_graph(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                        const std::vector<Tensor>* parent_values) {
  Frame frame(graph, opset, parent_values);
  DJ_RETURN_IF_ERROR(frame.bind(std::move(inputs)));
  DJ_RETURN_IF_ERROR(frame.execute());
  return frame.take_outputs();
}

Interpreter::Interpreter(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

Expected<std::vector<Tensor>> Interpreter::run(std::vector<Tensor> inputs) const {
  auto out = run_graph(*model_->graph, model_->opset, std::move(inputs), nullptr);
  if (out.ok()) runs_completed_.fetch_add(1);
  return out;
}

}  // namespace dj
