// Interpreter: runs a Graph node by node with the reference kernels.
//
// It is the reference engine: every compiled path in DynaJIT is checked against
// it. One Interpreter is immutable and may run from many threads at once; all
// per-run state lives in a Frame on the calling thread's stack. Values are
// released after their last use. Control-flow kernels run subgraphs through the
// SubgraphRunner interface, which binds captured outer values from the parent
// frame. A kernel error comes back with the node named; an allocation failure
// becomes an OutOfMemory status, never an abort.
//
// Tracing: the interpreter runs each graph region by region (Region.h) and, when
// it has a Tracer, reports every region execution to it (signature, time, If
// branch, Loop trip count, router dispatch). Tracing is on unless DJ_TRACE=off or
// the options say otherwise; without a tracer the node loop has no extra work.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Region.h"
#include "runtime/RegionDispatch.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"
#include "runtime/Tracer.h"

namespace dj {

struct InterpreterOptions {
  bool trace = true;
  TraceOptions trace_options;
  // trace: DJ_TRACE=off|0 turns it off; trace_options: TraceOptions::from_environment().
  static InterpreterOptions from_environment();
};

class Interpreter {
 public:
  explicit Interpreter(std::shared_ptr<const Model> model,
                       const InterpreterOptions& options = InterpreterOptions::from_environment());

  // Runs the main graph; `inputs` are in Graph::inputs order (see bind_inputs).
  Expected<std::vector<Tensor>> run(std::vector<Tensor> inputs) const;

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  uint64_t runs_completed() const { return runs_completed_.load(); }
  // Device tensors (left by compiled GPU regions) copied to the host for a
  // reference kernel or a graph output.
  uint64_t device_to_host_copies() const { return host_copies_.load(); }
  const RegionPlan& regions() const { return *plan_; }
  // Null when tracing is off. The tracer is internally synchronized.
  Tracer* tracer() const { return tracer_.get(); }
  // Where compiled code for regions is installed (by the specializer) and found.
  RegionDispatchTable& dispatch() const { return *dispatch_; }

 private:
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const RegionPlan> plan_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<RegionDispatchTable> dispatch_;
  mutable std::atomic<uint64_t> runs_completed_{0};
  mutable std::atomic<uint64_t> host_copies_{0};
};

// Runs any graph (main or sub) given its inputs and, for a subgraph, the parent
// frame's values (indexed by the parent's ValueIds) for its captures.
Expected<std::vector<Tensor>> run_graph(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                        const std::vector<Tensor>* parent_values);

}  // namespace dj
