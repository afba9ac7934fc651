// Loop (ONNX): inputs M (optional max trip count), cond (optional), v_initial...;
// body inputs (iteration_num, cond_in, carried...), body outputs (cond_out,
// carried..., scan outputs...); node outputs: the final carried values, then each
// scan output's per-iteration values stacked along a new axis 0.
//
// The loop runs while i < M (when M is given) and cond holds (when cond is given);
// as in ONNX Runtime and ONNX's reference, cond_out always feeds the next test.
// Only M and cond bound the loop: a model without either loops until cond_out is
// false. A carried value may change shape between iterations; every iteration's
// value of one scan output must have the same shape. With zero iterations the
// carried inputs pass through and scan outputs are [0, ...declared dims].
#include <limits>

#include "runtime/ops/ControlFlowIterationTensors.h"
#include "runtime/ops/ControlFlowKernels.h"

namespace dj {

namespace {

bool single_element_truth(const Tensor& t) { return t.numel() >= 1 && t.item<bool>(); }

}  // namespace

Status loop_kernel(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Graph* body = node.attr_graph("body");
  DJ_CHECK(body, InvalidModel, "Loop: missing graph attribute body");
  DJ_CHECK(node.inputs.size() >= 2, InvalidModel, "Loop: expected inputs M and cond (possibly empty), got ",
           node.inputs.size(), " inputs");
  const size_t carried_count = node.inputs.size() - 2;
  DJ_CHECK(body->inputs.size() == carried_count + 2, InvalidModel, "Loop: body has ", body->inputs.size(),
           " inputs, expected ", carried_count + 2, " (iteration_num, cond, ", carried_count, " carried)");
  DJ_CHECK(body->outputs.size() >= carried_count + 1, InvalidModel, "Loop: body has ", body->outputs.size(),
           " outputs, expected at least ", carried_count + 1, " (cond, ", carried_count, " carried)");
  const size_t scan_count = body->outputs.size() - 1 - carried_count;

  int64_t max_trips = std::numeric_limits<int64_t>::max();
  if (ctx.has_input(0)) {
    DJ_CHECK(ctx.input(0).numel() == 1, InvalidArgument, "Loop: M has shape ", shape_to_string(ctx.input(0).shape()),
             ", expected a single element");
    max_trips = ctx.input(0).item<int64_t>();
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    DJ_CHECK(ctx.input(1).numel() == 1, InvalidArgument, "Loop: cond has shape ",
             shape_to_string(ctx.input(1).shape()), ", expected a single element");
    cond = ctx.input(1).item<bool>();
  }
  std::vector<Tensor> carried(carried_count);
  for (size_t i = 0; i < carried_count; ++i) {
    DJ_CHECK(ctx.has_input(2 + i), InvalidArgument, "Loop: loop-carried input ", i, " is missing");
    carried[i] = ctx.input(2 + i);
  }

  std::vector<std::vector<Tensor>> scans(scan_count);
  int64_t iteration = 0;
  for (; iteration < max_trips && cond; ++iteration) {
    std::vector<Tensor> body_inputs;
    body_inputs.reserve(carried_count + 2);
    body_inputs.push_back(Tensor::scalar<int64_t>(iteration));
    body_inputs.push_back(Tensor::scalar<bool>(cond));
    for (Tensor& t : carried) body_inputs.push_back(std::move(t));
    DJ_ASSIGN_OR_RETURN(std::vector<Tensor> outs, ctx.run_subgraph(*body, std::move(body_inputs)));
    DJ_CHECK(outs.size() == body->outputs.size(), Internal, "Loop: body returned ", outs.size(), " outputs, expected ",
             body->outputs.size());
    cond = single_element_truth(outs[0]);
    for (size_t i = 0; i < carried_count; ++i) carried[i] = std::move(outs[1 + i]);
    for (size_t k = 0; k < scan_count; ++k) scans[k].push_back(std::move(outs[1 + carried_count + k]));
  }

  for (size_t i = 0; i < carried_count; ++i)
    if (ctx.wants_output(i)) ctx.set_output(i, detach_for_output(carried[i]));
  for (size_t k = 0; k < scan_count; ++k) {
    const size_t out_index = carried_count + k;
    if (!ctx.wants_output(out_index)) continue;
    if (scans[k].empty()) {
      ctx.set_output(out_index, stack_of_declared(body->value(body->outputs[1 + carried_count + k]), 0, 0));
    } else {
      DJ_ASSIGN_OR_RETURN(Tensor stacked,
                          stack_slices(scans[k], "Loop: scan output " + std::to_string(k) + " of iteration"));
      ctx.set_output(out_index, std::move(stacked));
    }
  }
  return {};
}

Status infer_loop(ShapeContext& ctx) {
  const Node& node = ctx.node();
  const Graph* body = node.attr_graph("body");
  if (!body || node.inputs.size() < 2) return {};
  const size_t carried_count = node.inputs.size() - 2;
  if (body->inputs.size() != carried_count + 2 || body->outputs.size() < carried_count + 1) return {};
  const size_t scan_count = body->outputs.size() - 1 - carried_count;

  for (size_t i = 0; i < carried_count && i < ctx.num_outputs(); ++i) {
    const ValueInfo& body_in = body->value(body->inputs[2 + i]);
    const ValueInfo& body_out = body->value(body->outputs[1 + i]);
    const std::optional<SymShape>& outer_in = ctx.input_shape(2 + i);
    std::optional<DType> dtype = ctx.input_dtype(2 + i);
    if (!dtype) dtype = body_out.dtype;
    std::optional<SymShape> shape;
    const bool body_keeps_shape = body_in.shape && body_out.shape && body_in.shape->size() == body_out.shape->size() &&
                                  [&] {
                                    for (size_t d = 0; d < body_in.shape->size(); ++d)
                                      if (!(*body_in.shape)[d].equals((*body_out.shape)[d])) return false;
                                    return true;
                                  }();
    if (body_keeps_shape) {
      shape = outer_in ? outer_in : body_out.shape;
    } else if (body_out.shape) {
      // The value is the outer input (zero iterations) or a body output.
      shape = merge_sym_shapes(outer_in, body_out.shape, ctx, "loop");
      if (!shape) {
        shape = SymShape();
        for (size_t d = 0; d < body_out.shape->size(); ++d) shape->push_back(ctx.fresh_dim("loop"));
      }
    }
    ctx.set_output(i, dtype, shape);
  }
  // Every scan output has one row per iteration: one trip-count dim for all.
  std::optional<SymExpr> trips;
  for (size_t k = 0; k < scan_count && carried_count + k < ctx.num_outputs(); ++k) {
    const ValueInfo& body_out = body->value(body->outputs[1 + carried_count + k]);
    std::optional<SymShape> shape;
    if (body_out.shape) {
      if (!trips) trips = ctx.fresh_dim("loop");
      shape = SymShape{*trips};
      shape->insert(shape->end(), body_out.shape->begin(), body_out.shape->end());
    }
    ctx.set_output(carried_count + k, body_out.dtype, shape);
  }
  return {};
}

}  // namespace dj
