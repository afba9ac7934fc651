// Scan (ONNX). Opset 9+: inputs are N states then M scan inputs
// (num_scan_inputs = M); each iteration the body gets the states and one slice of
// each scan input (along scan_input_axes, walked backwards where
// scan_input_directions is 1) and returns the new states and K scan-output
// slices, stacked along scan_output_axes (in reverse where
// scan_output_directions is 1). Opset 8: an optional sequence_lens input comes
// first, states and scan inputs carry a leading batch axis, scan inputs are
// [batch, seq, ...], every batch entry is scanned on its own over its first
// sequence_lens[b] steps (`directions` per scan input), and scan outputs are
// [batch, seq, ...] with zeros past an entry's length.
#include "runtime/ops/ControlFlowIterationTensors.h"
#include "runtime/ops/ControlFlowKernels.h"

namespace dj {

namespace {

struct ScanSpec {
  size_t state_count = 0, input_count = 0, output_count = 0;  // N, M, K
  std::vector<int64_t> in_axes;     // normalized
  std::vector<int64_t> in_reverse;
  std::vector<int64_t> out_axes;    // as given; normalized against the slice rank + 1
  std::vector<int64_t> out_reverse;
};

// Runs `steps` iterations; scan outputs get `out_length` rows (zeros past
// `steps`). With steps == 0 the scan outputs stay undefined.
Status run_steps(const KernelContext& ctx, const Graph& body, const ScanSpec& spec, std::vector<Tensor>& states,
                 const std::vector<Tensor>& scan_inputs, int64_t steps, int64_t out_length,
                 std::vector<Tensor>& scan_outputs) {
  scan_outputs.assign(spec.output_count, Tensor());
  std::vector<int> out_axis(spec.output_count, 0);
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<Tensor> body_inputs;
    body_inputs.reserve(spec.state_count + spec.input_count);
    for (Tensor& s : states) body_inputs.push_back(std::move(s));
    for (size_t j = 0; j < spec.input_count; ++j)
      body_inputs.push_back(take_slice(scan_inputs[j], static_cast<int>(spec.in_axes[j]),
                                       spec.in_reverse[j] ? steps - 1 - t : t));
    DJ_ASSIGN_OR_RETURN(std::vector<Tensor> outs, ctx.run_subgraph(body, std::move(body_inputs)));
    DJ_CHECK(outs.size() == spec.state_count + spec.output_count, Internal, "Scan: body returned ", outs.size(),
             " outputs, expected ", spec.state_count + spec.output_count);
    for (size_t i = 0; i < spec.state_count; ++i) states[i] = std::move(outs[i]);
    for (size_t k = 0; k < spec.output_count; ++k) {
      const Tensor slice = outs[spec.state_count + k].contiguous();
      if (t == 0) {
        const int64_t rank = slice.rank() + 1;
        int64_t axis = spec.out_axes[k];
        if (axis < 0) axis += rank;
        DJ_CHECK(axis >= 0 && axis < rank, InvalidArgument, "Scan: scan_output_axes[", k, "] = ", spec.out_axes[k],
                 " is out of range for a rank-", rank, " output");
        out_axis[k] = static_cast<int>(axis);
        const Shape shape = stacked_shape(slice.shape(), out_axis[k], out_length);
        scan_outputs[k] = out_length > steps ? Tensor::zeros(slice.dtype(), shape) : Tensor::empty(slice.dtype(), shape);
      } else {
        Shape expected = scan_outputs[k].shape();
        expected.erase(expected.begin() + out_axis[k]);
        DJ_CHECK(slice.shape() == expected && slice.dtype() == scan_outputs[k].dtype(), InvalidArgument,
                 "Scan: scan output ", k, " is ", slice.describe(), " in iteration ", t, ", but ",
                 dtype_name(scan_outputs[k].dtype()), shape_to_string(expected), " in iteration 0");
      }
      put_slice(scan_outputs[k], out_axis[k], spec.out_reverse[k] ? steps - 1 - t : t, slice);
    }
  }
  return {};
}

// An attribute list of `count` values, `fallback` each when absent.
Expected<std::vector<int64_t>> per_item_attr(const Node& node, const char* key, size_t count) {
  std::vector<int64_t> v = node.attr_ints(key);
  if (v.empty()) v.assign(count, 0);
  DJ_CHECK(v.size() == count, InvalidModel, "Scan: ", key, " has ", v.size(), " values, expected ", count);
  return v;
}

Status scan9(KernelContext& ctx, const Graph& body, size_t scan_input_count) {
  const Node& node = ctx.node();
  ScanSpec spec;
  spec.input_count = scan_input_count;
  DJ_CHECK(node.inputs.size() >= spec.input_count, InvalidModel, "Scan: num_scan_inputs ", spec.input_count,
           " exceeds the ", node.inputs.size(), " inputs");
  spec.state_count = node.inputs.size() - spec.input_count;
  DJ_CHECK(body.inputs.size() == node.inputs.size(), InvalidModel, "Scan: body has ", body.inputs.size(),
           " inputs, the node ", node.inputs.size());
  DJ_CHECK(body.outputs.size() >= spec.state_count, InvalidModel, "Scan: body has ", body.outputs.size(),
           " outputs, fewer than the ", spec.state_count, " states");
  spec.output_count = body.outputs.size() - spec.state_count;
  DJ_ASSIGN_OR_RETURN(spec.in_axes, per_item_attr(node, "scan_input_axes", spec.input_count));
  DJ_ASSIGN_OR_RETURN(spec.in_reverse, per_item_attr(node, "scan_input_directions", spec.input_count));
  DJ_ASSIGN_OR_RETURN(spec.out_axes, per_item_attr(node, "scan_output_axes", spec.output_count));
  DJ_ASSIGN_OR_RETURN(spec.out_reverse, per_item_attr(node, "scan_output_directions", spec.output_count));

  std::vector<Tensor> states, inputs;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    DJ_CHECK(ctx.has_input(i), InvalidArgument, "Scan: input ", i, " is missing");
    (i < spec.state_count ? states : inputs).push_back(ctx.input(i));
  }
  int64_t seq = -1;
  for (size_t j = 0; j < spec.input_count; ++j) {
    const Tensor& x = inputs[j];
    int64_t axis = spec.in_axes[j];
    if (axis < 0) axis += x.rank();
    DJ_CHECK(axis >= 0 && axis < x.rank(), InvalidArgument, "Scan: scan_input_axes[", j, "] = ", spec.in_axes[j],
             " is out of range for scan input ", j, " ", x.describe());
    spec.in_axes[j] = axis;
    if (seq < 0) seq = x.dim(static_cast<int>(axis));
    DJ_CHECK(x.dim(static_cast<int>(axis)) == seq, InvalidArgument, "Scan: scan input ", j, " ", x.describe(),
             " has ", x.dim(static_cast<int>(axis)), " steps along axis ", axis, ", scan input 0 has ", seq);
  }
  if (seq < 0) seq = 0;

  std::vector<Tensor> outputs;
  DJ_RETURN_IF_ERROR(run_steps(ctx, body, spec, states, inputs, seq, seq, outputs));
  for (size_t i = 0; i < spec.state_count; ++i)
    if (ctx.wants_output(i)) ctx.set_output(i, detach_for_output(states[i]));
  for (size_t k = 0; k < spec.output_count; ++k) {
    if (!ctx.wants_output(spec.state_count + k)) continue;
    if (!outputs[k].defined())
      outputs[k] = stack_of_declared(body.value(body.outputs[spec.state_count + k]), spec.out_axes[k], 0);
    ctx.set_output(spec.state_count + k, std::move(outputs[k]));
  }
  return {};
}

Status scan8(KernelContext& ctx, const Graph& body, size_t scan_input_count) {
  const Node& node = ctx.node();
  ScanSpec spec;
  spec.input_count = scan_input_count;
  DJ_CHECK(node.inputs.size() >= spec.input_count + 1, InvalidModel, "Scan: num_scan_inputs ", spec.input_count,
           " leaves no room for sequence_lens among ", node.inputs.size(), " inputs");
  spec.state_count = node.inputs.size() - 1 - spec.input_count;
  DJ_CHECK(body.inputs.size() == spec.state_count + spec.input_count, InvalidModel, "Scan: body has ",
           body.inputs.size(), " inputs, expected ", spec.state_count + spec.input_count);
  DJ_CHECK(body.outputs.size() >= spec.state_count, InvalidModel, "Scan: body has ", body.outputs.size(),
           " outputs, fewer than the ", spec.state_count, " states");
  spec.output_count = body.outputs.size() - spec.state_count;
  spec.in_axes.assign(spec.input_count, 0);
  DJ_ASSIGN_OR_RETURN(spec.in_reverse, per_item_attr(node, "directions", spec.input_count));
  spec.out_axes.assign(spec.output_count, 0);
  spec.out_reverse.assign(spec.output_count, 0);

  std::vector<Tensor> states, inputs;
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    DJ_CHECK(ctx.has_input(i), InvalidArgument, "Scan: input ", i, " is missing");
    (i < 1 + spec.state_count ? states : inputs).push_back(ctx.input(i));
  }
  int64_t batch = -1, seq = -1;
  for (const Tensor& t : states) {
    DJ_CHECK(t.rank() >= 1, InvalidArgument, "Scan: state ", t.describe(), " has no batch axis");
    if (batch < 0) batch = t.dim(0);
    DJ_CHECK(t.dim(0) == batch, InvalidArgument, "Scan: state ", t.describe(), " has batch ", t.dim(0), ", expected ", batch);
  }
  for (const Tensor& t : inputs) {
    DJ_CHECK(t.rank() >= 2, InvalidArgument, "Scan: scan input ", t.describe(), " needs [batch, sequence, ...]");
    if (batch < 0) batch = t.dim(0);
    if (seq < 0) seq = t.dim(1);
    DJ_CHECK(t.dim(0) == batch && t.dim(1) == seq, InvalidArgument, "Scan: scan input ", t.describe(),
             " disagrees with batch ", batch, " and sequence length ", seq);
  }
  if (batch < 0) batch = 0;
  if (seq < 0) seq = 0;
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (ctx.has_input(0)) {
    lens = ctx.input(0).to_int64_vector();
    DJ_CHECK(static_cast<int64_t>(lens.size()) == batch, InvalidArgument, "Scan: sequence_lens has ", lens.size(),
             " values for batch ", batch);
    for (size_t b = 0; b < lens.size(); ++b)
      DJ_CHECK(lens[b] >= 0 && lens[b] <= seq, InvalidArgument, "Scan: sequence_lens[", b, "] = ", lens[b],
               " is outside [0, ", seq, "]");
  }

  std::vector<std::vector<Tensor>> final_states(spec.state_count), scanned(spec.output_count);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> batch_states, batch_inputs, batch_outputs;
    for (const Tensor& s : states) batch_states.push_back(take_slice(s, 0, b));
    for (const Tensor& x : inputs) batch_inputs.push_back(take_slice(x, 0, b));
    DJ_RETURN_IF_ERROR(run_steps(ctx, body, spec, batch_states, batch_inputs, lens[static_cast<size_t>(b)], seq,
                                 batch_outputs));
    for (size_t i = 0; i < spec.state_count; ++i) final_states[i].push_back(std::move(batch_states[i]));
    for (size_t k = 0; k < spec.output_count; ++k) scanned[k].push_back(std::move(batch_outputs[k]));
  }
  for (size_t i = 0; i < spec.state_count; ++i) {
    if (!ctx.wants_output(i)) continue;
    DJ_ASSIGN_OR_RETURN(Tensor stacked, stack_slices(final_states[i], "Scan: final state " + std::to_string(i) + " of batch entry"));
    ctx.set_output(i, stacked.defined() ? stacked : states[i].clone());
  }
  for (size_t k = 0; k < spec.output_count; ++k) {
    const size_t out_index = spec.state_count + k;
    if (!ctx.wants_output(out_index)) continue;
    DJ_ASSIGN_OR_RETURN(Tensor stacked, stack_slices(scanned[k], "Scan: scan output " + std::to_string(k) + " of batch entry"));
    if (!stacked.defined()) {
      // No batch entry ran a step: [batch, seq, ...declared dims] of zeros.
      Tensor per_entry = stack_of_declared(body.value(body.outputs[out_index]), 0, seq);
      stacked = Tensor::zeros(per_entry.dtype(), stacked_shape(per_entry.shape(), 0, batch));
    }
    ctx.set_output(out_index, std::move(stacked));
  }
  return {};
}

}  // namespace

Status scan_kernel(KernelContext& ctx) {
  const Graph* body = ctx.node().attr_graph("body");
  DJ_CHECK(body, InvalidModel, "Scan: missing graph attribute body");
  DJ_CHECK(ctx.node().has_attr("num_scan_inputs"), InvalidModel, "Scan: missing attribute num_scan_inputs");
  const int64_t m = ctx.node().attr_int("num_scan_inputs", 0);
  DJ_CHECK(m >= 1, InvalidModel, "Scan: num_scan_inputs ", m, " must be at least 1");
  return ctx.opset() >= 9 ? scan9(ctx, *body, static_cast<size_t>(m)) : scan8(ctx, *body, static_cast<size_t>(m));
}

Status infer_scan(ShapeContext& ctx) {
  const Node& node = ctx.node();
  const Graph* body = node.attr_graph("body");
  const int64_t m = node.attr_int("num_scan_inputs", 0);
  const bool v8 = ctx.opset() < 9;
  const size_t first = v8 ? 1 : 0;  // index of the first state input
  if (!body || m < 1 || node.inputs.size() < first + static_cast<size_t>(m)) return {};
  const size_t state_count = node.inputs.size() - first - static_cast<size_t>(m);
  if (body->outputs.size() < state_count || body->inputs.size() != state_count + static_cast<size_t>(m)) return {};
  const size_t output_count = body->outputs.size() - state_count;

  // The sequence length, from scan input 0.
  std::optional<SymExpr> seq;
  std::optional<SymExpr> batch;
  const std::optional<SymShape>& x0 = ctx.input_shape(first + state_count);
  if (x0) {
    int64_t axis = v8 ? 1 : (node.attr_ints("scan_input_axes").empty() ? 0 : node.attr_ints("scan_input_axes")[0]);
    if (axis < 0) axis += static_cast<int64_t>(x0->size());
    if (axis >= 0 && axis < static_cast<int64_t>(x0->size())) seq = (*x0)[static_cast<size_t>(axis)];
    if (v8 && !x0->empty()) batch = (*x0)[0];
  }
  if (!seq) seq = ctx.fresh_dim("scan");

  for (size_t i = 0; i < state_count && i < ctx.num_outputs(); ++i) {
    const ValueInfo& body_out = body->value(body->outputs[i]);
    std::optional<DType> dtype = ctx.input_dtype(first + i);
    if (!dtype) dtype = body_out.dtype;
    std::optional<SymShape> shape = ctx.input_shape(first + i);
    if (!shape && body_out.shape && !v8) shape = body_out.shape;
    ctx.set_output(i, dtype, shape);
  }
  const std::vector<int64_t> out_axes = node.attr_ints("scan_output_axes");
  for (size_t k = 0; k < output_count && state_count + k < ctx.num_outputs(); ++k) {
    const ValueInfo& body_out = body->value(body->outputs[state_count + k]);
    std::optional<SymShape> shape;
    if (body_out.shape) {
      shape = body_out.shape;
      if (v8) {
        shape->insert(shape->begin(), *seq);
        shape->insert(shape->begin(), batch ? *batch : ctx.fresh_dim("scan"));
      } else {
        const int64_t rank = static_cast<int64_t>(shape->size()) + 1;
        int64_t axis = k < out_axes.size() ? out_axes[k] : 0;
        if (axis < 0) axis += rank;
        if (axis >= 0 && axis < rank) shape->insert(shape->begin() + axis, *seq);
        else shape.reset();
      }
    }
    ctx.set_output(state_count + k, body_out.dtype, shape);
  }
  return {};
}

}  // namespace dj
