// OpRegistry: the one place each op is registered, with its reference kernel and
// its load-time shape function; and the two contexts those functions receive.
//
// Adding an op: write `Status kernel(KernelContext&)` and `Status infer(ShapeContext&)`
// in the family file under runtime/ops/, and add one OpSchema line to that family's
// register_*_ops() function (the families are listed in runtime/ops/OpFamilies.h).
//
// Kernel contract: inputs are contiguous and defined unless the input is an
// omitted optional one (has_input(i) == false); a kernel sets every output it is
// asked for (wants_output) with a fresh tensor, returns a Status naming the cause
// on bad input, and may throw only AllocationError (from Tensor::empty).
// Shape-function contract: read what is known of the inputs (dtype, SymShape,
// constant value, symbolic element values) and fill the outputs' dtype and shape
// as far as they are known; leave shape empty (nullopt) when the rank is unknown,
// and use fresh_dim() for a dimension only known after running.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

// Runs a subgraph of the node being executed, binding its captures from the
// current frame. Implemented by the interpreter.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  virtual Expected<std::vector<Tensor>> run_subgraph(const Graph& g, std::vector<Tensor> inputs) const = 0;
};

class KernelContext {
 public:
  KernelContext(const Node& node, int64_t opset, std::vector<Tensor> inputs, const SubgraphRunner* runner)
      : node_(node), opset_(opset), inputs_(std::move(inputs)), outputs_(node.outputs.size()), runner_(runner) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }

  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].defined(); }
  const Tensor& input(size_t i) const { return inputs_[i]; }

  size_t num_outputs() const { return outputs_.size(); }
  bool wants_output(size_t i) const { return i < node_.outputs.size() && node_.outputs[i] != kNoValue; }
  void set_output(size_t i, Tensor t) { outputs_[i] = std::move(t); }
  Tensor& allocate_output(size_t i, DType dtype, const Shape& shape) {
    outputs_[i] = Tensor::empty(dtype, shape);
    return outputs_[i];
  }
  std::vector<Tensor>& outputs() { return outputs_; }

  Expected<std::vector<Tensor>> run_subgraph(const Graph& g, std::vector<Tensor> inputs) const {
    if (!runner_) return Status(StatusCode::Internal, "no subgraph runner in this context");
    return runner_->run_subgraph(g, std::move(inputs));
  }

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<Tensor> inputs_;
  std::vector<Tensor> outputs_;
  const SubgraphRunner* runner_;
};

class ShapeContext {
 public:
  ShapeContext(const Node& node, int64_t opset, std::vector<const ValueInfo*> inputs,
               std::vector<ValueInfo*> outputs, int* fresh_counter)
      : node_(node), opset_(opset), inputs_(std::move(inputs)), outputs_(std::move(outputs)),
        fresh_counter_(fresh_counter) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t num_inputs() const { return inputs_.size(); }
  const ValueInfo* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  // Convenience: dtype/shape of input i if known.
  std::optional<DType> input_dtype(size_t i) const { return input(i) ? input(i)->dtype : std::nullopt; }
  const std::optional<SymShape>& input_shape(size_t i) const;
  const Tensor* input_constant(size_t i) const {
    return input(i) && input(i)->constant.defined() ? &input(i)->constant : nullptr;
  }
  size_t num_outputs() const { return outputs_.size(); }
  ValueInfo* output(size_t i) { return i < outputs_.size() ? outputs_[i] : nullptr; }
  void set_output(size_t i, std::optional<DType> dtype, std::optional<SymShape> shape) {
    if (ValueInfo* o = output(i)) {
      if (dtype) o->dtype = dtype;
      if (shape) o->shape = std::move(shape);
    }
  }
  // A new data-dependent dimension, named after the node (unique within a model).
  SymExpr fresh_dim(const std::string& hint = "dd") { return SymExpr::symbol(hint + std::to_string((*fresh_counter_)++), SymbolKind::DataDependent); }

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<const ValueInfo*> inputs_;
  std::vector<ValueInfo*> outputs_;
  int* fresh_counter_;
};

using KernelFn = Status (*)(KernelContext&);
using ShapeFn = Status (*)(ShapeContext&);

struct OpSchema {
  std::string op_type;
  KernelFn kernel = nullptr;
  ShapeFn infer = nullptr;  // nullptr: outputs' shapes are unknown until run
};

class OpRegistry {
 public:
  // The process-wide registry with every built-in op (filled on first use).
  static const OpRegistry& builtin();

  void add(OpSchema schema);
  const OpSchema* find(const std::string& domain, const std::string& op_type) const;
  std::vector<std::string> op_types() const;

 private:
  std::map<std::string, OpSchema> ops_;
};

}  // namespace dj
