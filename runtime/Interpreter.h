// Interpreter: runs a Graph node by node with the reference kernels.
//
// It is the reference engine: every compiled path in DynaJIT is checked against
// it. One Interpreter is immutable and may run from many threads at once; all
// per-run state lives in a Frame on the calling thread's stack. Values are
// released after their last use. Control-flow kernels run subgraphs through the
// SubgraphRunner interface, which binds captured outer values from the parent
// frame. A kernel error comes back with the node named; an allocation failure
// becomes an OutOfMemory status, never an abort.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

class Interpreter {
 public:
  explicit Interpreter(std::shared_ptr<const Model> model);

  // Runs the main graph; `inputs` are in Graph::inputs order (see bind_inputs).
  Expected<std::vector<Tensor>> run(std::vector<Tensor> inputs) const;

  const Model& model() const { return *model_; }
  uint64_t runs_completed() const { return runs_completed_.load(); }

 private:
  std::shared_ptr<const Model> model_;
  mutable std::atomic<uint64_t> runs_completed_{0};
};

// Runs any graph (main or sub) given its inputs and, for a subgraph, the parent
// frame's values (indexed by the parent's ValueIds) for its captures.
Expected<std::vector<Tensor>> run_graph(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                        const std::vector<Tensor>* parent_values);

}  // namespace dj
