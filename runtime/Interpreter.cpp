// Interpreter: executes a graph's nodes in order over a per-run Frame, region by
// region when tracing.
#include "runtime/Interpreter.h"

#include <cstdlib>
#include <cstring>
#include <exception>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

// What a traced execution needs besides the graph: the regions and the tracer.
struct TraceHooks {
  const RegionPlan* plan = nullptr;
  Tracer* tracer = nullptr;                       // null: tracing off
  const RegionDispatchTable* dispatch = nullptr;  // null: no compiled code to look for
  uint64_t* run_ns = nullptr;  // set for the main graph: receives the time of all its regions
  std::atomic<uint64_t>* host_copies = nullptr;  // counts device tensors copied back for the reference kernels
};

// The last clock reading taken on this thread at a region boundary. A subgraph's
// frame starts its first region from it (the parent's control region started
// then), so tracing costs one clock read per region and nothing per frame.
thread_local uint64_t t_last_clock = 0;

Expected<std::vector<Tensor>> run_graph_traced(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                               const std::vector<Tensor>* parent_values, const TraceHooks& hooks);

// The values of one execution of one graph. Lives on the caller's stack.
class Frame : public SubgraphRunner {
 public:
  Frame(const Graph& graph, int64_t opset, const std::vector<Tensor>* parent_values, const TraceHooks& hooks)
      : graph_(graph), opset_(opset), parent_values_(parent_values), hooks_(hooks), values_(graph.values.size()) {}

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
    if (hooks_.tracer || hooks_.dispatch) {
      const std::vector<int32_t>& regions = hooks_.plan->regions_of(&graph_);
      if (!regions.empty()) {
        // One clock read per region boundary: a region ends when the next starts.
        const bool top_level = hooks_.run_ns != nullptr;
        uint64_t now = !hooks_.tracer ? 0 : top_level ? hooks_.tracer->now_ns() : t_last_clock;
        const uint64_t start = now;
        for (size_t i = 0; i < regions.size(); ++i) {
          const Region* next = i + 1 < regions.size() ? &hooks_.plan->region(regions[i + 1]) : nullptr;
          bool ran_next = false;  // a compiled path ran through the next region (an If) too
          DJ_RETURN_IF_ERROR(execute_region(hooks_.plan->region(regions[i]), next, now, ran_next));
          i += ran_next;
        }
        if (top_level) *hooks_.run_ns = now - start;
        return {};
      }
    }
    return execute_nodes(0, static_cast<int32_t>(graph_.nodes.size()));
  }

  Expected<std::vector<Tensor>> take_outputs() {
    std::vector<Tensor> out;
    out.reserve(graph_.outputs.size());
    for (ValueId id : graph_.outputs) {
      if (!values_[id].defined())
        return make_error(StatusCode::Internal, "graph output '", graph_.value(id).name, "' was never computed");
      DJ_ASSIGN_OR_RETURN(Tensor t, host_view(values_[id]));
      out.push_back(std::move(t));
    }
    return out;
  }

  Expected<std::vector<Tensor>> run_subgraph(const Graph& g, std::vector<Tensor> inputs) const override {
    if (control_region_) {  // tell the tracer which branch ran / how many iterations
      ++subgraph_calls_;
      if (control_region_->if_then_branch) branch_ = (&g == control_region_->if_then_branch) ? 0 : 1;
    }
    TraceHooks nested = hooks_;
    nested.run_ns = nullptr;
    return run_graph_traced(g, opset_, std::move(inputs), &values_, nested);
  }

 private:
  // `routed`: a traced region with router sites, whose expert ids are reported.
  Status execute_nodes(int32_t first, int32_t end, const Region* routed = nullptr) {
    for (int32_t n = first; n < end; ++n) {
      const Node& node = graph_.nodes[static_cast<size_t>(n)];
      Status st = execute_node(node);
      if (!st.ok()) return st.with_context(node.describe() + ": ");  // build the message only on failure
      if (routed) report_routing(*routed, n);
      release_dead_values(node, n);
    }
    return {};
  }

  // `clock`: the region's start time on entry, its end time on return. `next`: the
  // region after it in this graph (null at the end); `ran_next` is set when compiled
  // path code ran that region (an If) as well.
  Status execute_region(const Region& region, const Region* next, uint64_t& clock, bool& ran_next) {
    // The signature goes on a per-thread stack of words: nested regions (in
    // subgraphs) push theirs above it, and nothing allocates once it has grown.
    thread_local SignatureWords signature_stack;
    const size_t sig_begin = signature_stack.size();
    for (ValueId id : region.inputs) append_signature(signature_stack, values_[static_cast<size_t>(id)]);
    const size_t sig_size = signature_stack.size() - sig_begin;
    struct PopOnExit {
      SignatureWords& stack;
      size_t size;
      ~PopOnExit() { stack.resize(size); }
    } pop{signature_stack, sig_begin};
    const uint64_t hash = hash_signature(signature_stack.data() + sig_begin, sig_size);
    if (hooks_.dispatch && region.kind == RegionKind::Compute) {
      if (const CompiledRegion* code = hooks_.dispatch->find(region.id, signature_stack.data() + sig_begin, sig_size, hash)) {
        const bool path = code->traced_branch() >= 0 && next && next->kind == RegionKind::Control &&
                          next->if_then_branch && next->first_node == region.end_node;
        DJ_RETURN_IF_ERROR(execute_compiled(region, *code, path ? next : nullptr, ran_next));
        if (hooks_.tracer) record(region, signature_stack.data() + sig_begin, sig_size, hash, clock, -1, -1, true);
        if (ran_next && hooks_.tracer) record_path_if(*next, code->traced_branch(), clock);
        return {};
      }
    }
    if (!hooks_.tracer) return execute_nodes(region.first_node, region.end_node);
    RegionObservation obs;
    const bool control = region.kind == RegionKind::Control;
    if (control) {
      control_region_ = &region;
      subgraph_calls_ = 0;
      branch_ = -1;
    }
    Status st = execute_nodes(region.first_node, region.end_node, region.routers.empty() ? nullptr : &region);
    if (control) {
      if (region.if_then_branch) obs.branch = branch_;
      else obs.trips = subgraph_calls_;
      control_region_ = nullptr;
    }
    if (!st.ok()) return st;  // failed executions are not statistics
    record(region, signature_stack.data() + sig_begin, sig_size, hash, clock, obs.branch, obs.trips, false);
    return {};
  }

  void record(const Region& region, const int64_t* words, size_t n, uint64_t hash, uint64_t& clock, int branch,
              int64_t trips, bool compiled) {
    RegionObservation obs;
    obs.region = region.id;
    obs.signature = words;
    obs.signature_size = n;
    obs.signature_hash = hash;
    obs.start_ns = clock;
    clock = hooks_.tracer->now_ns();
    t_last_clock = clock;
    obs.duration_ns = clock - obs.start_ns;
    obs.branch = branch;
    obs.trips = trips;
    obs.compiled = compiled;
    hooks_.tracer->record(obs);
  }

  // The If a compiled path ran, for the tracer: its signature from the frame
  // (its inputs are all computed now) and the branch taken.
  void record_path_if(const Region& control, int branch, uint64_t& clock) {
    SignatureWords words;
    for (ValueId id : control.inputs) append_signature(words, values_[static_cast<size_t>(id)]);
    record(control, words.data(), words.size(), hash_signature(words.data(), words.size()), clock, branch, -1, true);
  }

  // Runs a region through compiled code: its inputs in, its live outputs out. With
  // `path_if` (the If region after it, for path code): `ran_if` tells whether the
  // path went through the If too, whose outputs are then in the frame as well.
  Status execute_compiled(const Region& region, const CompiledRegion& code, const Region* path_if, bool& ran_if) {
    std::vector<Tensor> inputs;
    inputs.reserve(region.inputs.size());
    for (ValueId id : region.inputs) {
      const Tensor& t = values_[static_cast<size_t>(id)];
      inputs.push_back(t.is_contiguous() ? t : t.contiguous());
    }
    std::vector<Tensor> outputs, if_outputs;
    ran_if = false;
    try {
      // The messages are built only on failure (this runs once per compiled region run).
      if (path_if) {
        if (Status st = code.run_path(inputs, outputs, if_outputs, ran_if); !st.ok())
          return st.with_context(region.label() + " (compiled path): ");
      } else if (Status st = code.run(inputs, outputs); !st.ok()) {
        return st.with_context(region.label() + " (compiled): ");
      }
    } catch (const AllocationError& e) {
      return Status(StatusCode::OutOfMemory, e.what());
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::OutOfMemory, "the system refused an allocation");
    }
    if (outputs.size() != region.outputs.size())
      return make_error(StatusCode::Internal, region.label(), " (compiled) produced ", outputs.size(),
                        " outputs, expected ", region.outputs.size());
    code.count_hit();
    for (size_t i = 0; i < outputs.size(); ++i) values_[static_cast<size_t>(region.outputs[i])] = std::move(outputs[i]);
    // Inputs whose last reader was inside the region are dead now.
    for (ValueId id : region.inputs) {
      int32_t last = graph_.last_use[static_cast<size_t>(id)];
      if (last >= region.first_node && last < region.end_node) values_[static_cast<size_t>(id)] = Tensor();
    }
    if (!ran_if) return {};
    const Node& if_node = graph_.nodes[static_cast<size_t>(path_if->first_node)];
    if (if_outputs.size() != if_node.outputs.size())
      return make_error(StatusCode::Internal, region.label(), " (compiled path) produced ", if_outputs.size(),
                        " If outputs, expected ", if_node.outputs.size());
    for (size_t i = 0; i < if_outputs.size(); ++i)
      if (if_node.outputs[i] != kNoValue) values_[static_cast<size_t>(if_node.outputs[i])] = std::move(if_outputs[i]);
    release_dead_values(if_node, path_if->first_node);
    return {};
  }

  // Reports the expert ids of a router site of `region` that node `n` just produced,
  // before they are released.
  void report_routing(const Region& region, int32_t n) {
    const Node& node = graph_.nodes[static_cast<size_t>(n)];
    for (size_t k = 0; k < region.routers.size(); ++k) {
      const RouterSite& site = region.routers[k];
      if (site.node != n) continue;
      const Tensor& logits = values_[static_cast<size_t>(node.inputs[0])];
      const Tensor& ids = values_[static_cast<size_t>(node.outputs[static_cast<size_t>(site.indices_output)])];
      if (!logits.defined() || logits.rank() == 0) continue;
      int64_t axis = site.axis < 0 ? site.axis + logits.rank() : site.axis;
      if (axis < 0 || axis >= logits.rank()) continue;
      hooks_.tracer->record_routing(region.id, k, ids, logits.dim(static_cast<int>(axis)));
    }
  }

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
      DJ_ASSIGN_OR_RETURN(Tensor host, host_view(t));
      inputs.push_back(host.is_contiguous() ? std::move(host) : host.contiguous());
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

  // Reference kernels read host memory: a value a compiled region left on a device
  // comes back here, counted (never silently).
  Expected<Tensor> host_view(const Tensor& t) const {
    if (t.on_host()) return t;
    if (hooks_.host_copies) hooks_.host_copies->fetch_add(1, std::memory_order_relaxed);
    return t.to_host();
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
  TraceHooks hooks_;
  std::vector<Tensor> values_;
  // The control region being executed (tracing only), and what its subgraph calls showed.
  const Region* control_region_ = nullptr;
  mutable int64_t subgraph_calls_ = 0;
  mutable int branch_ = -1;
};

Expected<std::vector<Tensor>> run_graph_traced(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                               const std::vector<Tensor>* parent_values, const TraceHooks& hooks) {
  Frame frame(graph, opset, parent_values, hooks);
  DJ_RETURN_IF_ERROR(frame.bind(std::move(inputs)));
  DJ_RETURN_IF_ERROR(frame.execute());
  return frame.take_outputs();
}

}  // namespace

Expected<std::vector<Tensor>> run_graph(const Graph& graph, int64_t opset, std::vector<Tensor> inputs,
                                        const std::vector<Tensor>* parent_values) {
  return run_graph_traced(graph, opset, std::move(inputs), parent_values, TraceHooks{});
}

InterpreterOptions InterpreterOptions::from_environment() {
  InterpreterOptions o;
  const char* v = std::getenv("DJ_TRACE");
  if (v && (std::strcmp(v, "off") == 0 || std::strcmp(v, "0") == 0)) o.trace = false;
  o.trace_options = TraceOptions::from_environment();
  return o;
}

Interpreter::Interpreter(std::shared_ptr<const Model> model, const InterpreterOptions& options)
    : model_(std::move(model)), plan_(RegionPlan::build(*model_)) {
  if (options.trace) tracer_ = std::make_unique<Tracer>(plan_, options.trace_options);
  dispatch_ = std::make_unique<RegionDispatchTable>(plan_->size());
}

Expected<std::vector<Tensor>> Interpreter::run(std::vector<Tensor> inputs) const {
  uint64_t run_ns = 0;
  TraceHooks hooks{plan_.get(), tracer_.get(), dispatch_.get(), &run_ns, &host_copies_};
  if (tracer_) tracer_->begin_run();
  auto out = run_graph_traced(*model_->graph, model_->opset, std::move(inputs), nullptr, hooks);
  if (out.ok()) {
    runs_completed_.fetch_add(1);
    if (tracer_) tracer_->end_run(run_ns);
  }
  return out;
}

}  // namespace dj
