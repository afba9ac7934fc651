// prepare_run_inputs: the tensors `dj run` feeds a model, from the --input and
// --dim arguments and the model's declared inputs.
//
// A given input is read from its .npy file or made up with random data of the
// given shape and dtype (each defaulting to the declared one). An input not given
// is made up from its declared dtype and shape; each symbolic dim takes its size
// from --dim, else from a given input that has the same symbol, else 1, and a
// note says so. Every input in the result is in the model's input order; the
// strict checks (dtype, rank, dims) are left to bind_inputs at run time so the
// messages are the same as through the C API.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bindings/cli/InputSpec.h"
#include "runtime/Graph.h"
#include "runtime/InputBinding.h"

namespace dj {

struct RunInputs {
  std::vector<NamedTensor> tensors;  // model input order
  std::vector<std::string> origins;  // per input: "random", "from x.npy", ...
  std::vector<std::string> notes;    // for stderr: sizes chosen for symbolic dims
};

Expected<RunInputs> prepare_run_inputs(const Graph& graph, const std::vector<InputSpec>& specs,
                                       const std::map<std::string, int64_t>& dim_sizes, uint64_t seed);

}  // namespace dj
