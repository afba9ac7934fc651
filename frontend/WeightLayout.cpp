// WeightLayout: transposed Gemm weights stored untransposed (see WeightLayout.h).
#include "frontend/WeightLayout.h"

namespace dj {
namespace {

// How many node inputs of `graph` read value `id` (subgraph captures count as reads).
int readers_of(const Graph& graph, ValueId id) {
  int n = 0;
  for (const Node& node : graph.nodes) {
    for (ValueId in : node.inputs) n += in == id;
    for (ValueId in : node.implicit_inputs) n += in == id;
  }
  for (ValueId out : graph.outputs) n += out == id;
  return n;
}

Tensor transposed_2d(const Tensor& t) {
  const int64_t rows = t.dim(0), cols = t.dim(1);
  Tensor src = t.contiguous();
  Tensor out = Tensor::empty(DType::F32, {cols, rows});
  const float* s = src.data<float>();
  float* d = out.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) d[c * rows + r] = s[r * cols + c];
  return out;
}

}  // namespace

int store_gemm_weights_untransposed(Graph& graph) {
  int rewritten = 0;
  for (Node& node : graph.nodes) {
    for (auto& [key, attr] : node.attributes)
      if (attr.g) rewritten += store_gemm_weights_untransposed(*attr.g);
    if (node.op_type != "Gemm" || !node.domain.empty() || node.inputs.size() < 2 || node.attr_int("transB", 0) == 0)
      continue;
    const ValueId b = node.inputs[1];
    if (b == kNoValue) continue;
    const ValueInfo& info = graph.value(b);
    const Tensor& w = info.constant;
    if (!w.defined() || w.dtype() != DType::F32 || w.rank() != 2) continue;
    Tensor wt = transposed_2d(w);
    ValueId target = b;
    if (readers_of(graph, b) > 1) {  // others read B as it is: give this Gemm its own copy
      target = graph.add_value(info.name + "/untransposed");
      graph.initializers.push_back(target);
      graph.value(target).dtype = DType::F32;
    }
    ValueInfo& out = graph.value(target);
    out.shape = SymShape{SymExpr(wt.dim(0)), SymExpr(wt.dim(1))};
    out.constant = std::move(wt);
    out.constant.mark_model_constant();
    node.inputs[1] = target;
    node.attributes["transB"].kind = Attribute::Kind::Int;
    node.attributes["transB"].i = 0;
    rewritten += 1;
  }
  return rewritten;
}

}  // namespace dj
