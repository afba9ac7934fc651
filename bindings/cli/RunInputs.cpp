// The inputs `dj run` feeds a model (see RunInputs.h).
#include "bindings/cli/RunInputs.h"

#include <algorithm>

#include "bindings/cli/NpyFile.h"
#include "bindings/cli/RandomTensor.h"

namespace dj {
namespace {

std::string input_names(const Graph& graph) {
  std::string names;
  for (ValueId id : graph.inputs) names += (names.empty() ? "" : ", ") + graph.value(id).name;
  return names;
}

// Learns symbol sizes from a given tensor whose rank matches the declaration.
void learn_symbols(const ValueInfo& declared, const Tensor& t, std::map<std::string, int64_t>& sizes) {
  if (!declared.shape || declared.shape->size() != static_cast<size_t>(t.rank())) return;
  for (size_t d = 0; d < declared.shape->size(); ++d) {
    const SymExpr& dim = (*declared.shape)[d];
    if (dim.is_symbol()) sizes.emplace(dim.symbol_name(), t.shape()[d]);
  }
}

}  // namespace

Expected<RunInputs> prepare_run_inputs(const Graph& graph, const std::vector<InputSpec>& specs,
                                       const std::map<std::string, int64_t>& dim_sizes, uint64_t seed) {
  const size_t n = graph.inputs.size();
  std::vector<const InputSpec*> spec_of(n, nullptr);
  for (const InputSpec& spec : specs) {
    auto it = std::find_if(graph.inputs.begin(), graph.inputs.end(),
                           [&](ValueId id) { return graph.value(id).name == spec.name; });
    if (it == graph.inputs.end())
      return make_error(StatusCode::InvalidArgument, "--input '", spec.name, "': the model has no such input (its inputs: ",
                        input_names(graph), ")");
    size_t index = static_cast<size_t>(it - graph.inputs.begin());
    if (spec_of[index]) return make_error(StatusCode::InvalidArgument, "--input '", spec.name, "' is given twice");
    spec_of[index] = &spec;
  }

  RunInputs result;
  result.tensors.resize(n);
  result.origins.resize(n);
  std::map<std::string, int64_t> sizes = dim_sizes;

  // Given inputs first, so that the inputs made up after them agree on symbol sizes.
  for (size_t i = 0; i < n; ++i) {
    const InputSpec* spec = spec_of[i];
    if (!spec) continue;
    const ValueInfo& declared = graph.value(graph.inputs[i]);
    Tensor t;
    if (!spec->npy_path.empty()) {
      DJ_ASSIGN_OR_RETURN(t, read_npy(spec->npy_path));
      result.origins[i] = "from " + spec->npy_path;
    } else {
      std::optional<DType> dtype = spec->dtype ? spec->dtype : declared.dtype;
      if (!dtype)
        return make_error(StatusCode::InvalidArgument, "--input '", spec->name,
                          "': the model does not declare its dtype; give one, e.g. ", spec->name, "=1x4:f32");
      if (!spec->shape) {
        // NAME=:DTYPE: the declared shape, symbols resolved below like a missing input's.
        continue;
      }
      DJ_ASSIGN_OR_RETURN(t, random_tensor(*dtype, *spec->shape, seed, i));
      result.origins[i] = "random";
    }
    learn_symbols(declared, t, sizes);
    result.tensors[i] = {declared.name, std::move(t)};
  }

  for (size_t i = 0; i < n; ++i) {
    if (result.tensors[i].tensor.defined()) continue;
    const ValueInfo& declared = graph.value(graph.inputs[i]);
    std::optional<DType> dtype = spec_of[i] && spec_of[i]->dtype ? spec_of[i]->dtype : declared.dtype;
    if (!dtype || !declared.shape)
      return make_error(StatusCode::InvalidArgument, "input '", declared.name,
                        "' has no declared dtype or shape; give it with --input ", declared.name, "=SHAPE:DTYPE");
    Shape shape;
    for (const SymExpr& dim : *declared.shape) {
      std::vector<std::string> symbols;
      dim.collect_symbols(symbols);
      for (const std::string& s : symbols) {
        if (sizes.emplace(s, 1).second)
          result.notes.push_back("symbolic dim '" + s + "' of input '" + declared.name +
                                 "' set to 1 (choose with --dim " + s + "=N or --input " + declared.name + "=SHAPE)");
      }
      std::optional<int64_t> size = dim.evaluate(sizes);
      shape.push_back(size && *size >= 0 ? *size : 1);
    }
    DJ_ASSIGN_OR_RETURN(Tensor t, random_tensor(*dtype, shape, seed, i));
    result.origins[i] = spec_of[i] ? "random" : "random (not given)";
    result.tensors[i] = {declared.name, std::move(t)};
  }
  return result;
}

}  // namespace dj
