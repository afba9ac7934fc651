// bind_inputs: name lookup and checks of caller inputs against the model.
#include "runtime/InputBinding.h"

#include <algorithm>

namespace dj {

Status check_against_declared(const ValueInfo& declared, const Tensor& t, std::map<std::string, int64_t>& bindings,
                              const std::string& what) {
  if (!t.defined()) return make_error(StatusCode::InvalidArgument, what, " '", declared.name, "' is null");
  if (declared.dtype && *declared.dtype != t.dtype())
    return make_error(StatusCode::InvalidArgument, what, " '", declared.name, "' has dtype ", dtype_name(t.dtype()),
                      " but the model expects ", dtype_name(*declared.dtype));
  if (!declared.shape) return {};
  const SymShape& shape = *declared.shape;
  if (static_cast<size_t>(t.rank()) != shape.size())
    return make_error(StatusCode::InvalidArgument, what, " '", declared.name, "' has rank ", t.rank(), " (shape ",
                      shape_to_string(t.shape()), ") but the model expects rank ", shape.size(), " ",
                      sym_shape_to_string(shape));
  for (size_t d = 0; d < shape.size(); ++d) {
    const SymExpr& dim = shape[d];
    int64_t actual = t.shape()[d];
    if (dim.is_const()) {
      if (dim.const_value() != actual)
        return make_error(StatusCode::InvalidArgument, what, " '", declared.name, "' has shape ",
                          shape_to_string(t.shape()), " but the model expects ", sym_shape_to_string(shape),
                          " (dim ", d, " must be ", dim.const_value(), ")");
    } else if (dim.is_symbol() && dim.symbol_kind() == SymbolKind::Input) {
      auto [it, inserted] = bindings.emplace(dim.symbol_name(), actual);
      if (!inserted && it->second != actual)
        return make_error(StatusCode::InvalidArgument, what, " '", declared.name, "' has shape ",
                          shape_to_string(t.shape()), ": dim ", d, " ('", dim.symbol_name(), "') is ", actual,
                          " but '", dim.symbol_name(), "' is ", it->second, " in another input");
    }
  }
  return {};
}

Expected<std::vector<Tensor>> bind_inputs(const Graph& graph, const std::vector<NamedTensor>& given) {
  std::vector<Tensor> ordered(graph.inputs.size());
  for (const NamedTensor& nt : given) {
    auto it = std::find_if(graph.inputs.begin(), graph.inputs.end(),
                           [&](ValueId id) { return graph.value(id).name == nt.name; });
    if (it == graph.inputs.end()) {
      std::string names;
      for (ValueId id : graph.inputs) names += (names.empty() ? "" : ", ") + graph.value(id).name;
      return make_error(StatusCode::InvalidArgument, "unknown input '", nt.name, "' (the model's inputs: ", names,
                        ")");
    }
    size_t idx = static_cast<size_t>(it - graph.inputs.begin());
    if (ordered[idx].defined())
      return make_error(StatusCode::InvalidArgument, "input '", nt.name, "' is given twice");
    ordered[idx] = nt.tensor;
  }
  std::map<std::string, int64_t> bindings;
  for (size_t i = 0; i < ordered.size(); ++i) {
    const ValueInfo& info = graph.value(graph.inputs[i]);
    if (!ordered[i].defined()) return make_error(StatusCode::InvalidArgument, "missing input '", info.name, "'");
    DJ_RETURN_IF_ERROR(check_against_declared(info, ordered[i], bindings, "input"));
  }
  return ordered;
}

}  // namespace dj
