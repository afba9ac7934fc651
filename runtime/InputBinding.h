// bind_inputs: from caller-named tensors to the main graph's input order, with
// every check a caller can fail: unknown or missing input names, wrong dtype,
// wrong rank, a constant dim that differs, or one symbolic dim (e.g. "seq")
// given two different sizes. Messages name the input, expected and actual.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

Expected<std::vector<Tensor>> bind_inputs(const Graph& graph, const std::vector<NamedTensor>& given);

// Checks one value against its declared dtype/shape; `bindings` collects the sizes
// seen for symbolic dims so a symbol used twice must agree.
Status check_against_declared(const ValueInfo& declared, const Tensor& t, std::map<std::string, int64_t>& bindings,
                              const std::string& what);

}  // namespace dj
