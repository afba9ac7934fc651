// CudaGroupLowering: fusion groups as CUDA kernel specs (see CudaGroupLowering.h).
#if DJ_HAVE_CUDA
#include "specializer/CudaGroupLowering.h"

#include <map>

namespace dj::specializer {
namespace {

using jit::cuda::CudaKernelKind;
using jit::cuda::CudaKernelSpec;

// Appends `nodes` (f32 elementwise ops) to `steps` as a chain over `num_inputs`
// inputs whose operand indices `operand_of` holds, ending with `result` (an
// Identity step when `result` is not the last node's output).
Status append_chain(const Graph& g, const std::vector<int32_t>& nodes, ValueId result, int num_inputs,
                    std::map<ValueId, int>& operand_of, std::vector<jit::cuda::ElementwiseStep>& steps) {
  for (int32_t n : nodes) {
    const Node& node = g.nodes[static_cast<size_t>(n)];
    jit::cuda::ElementwiseStep step;
    step.op = node.op_type;
    if (node.op_type == "LeakyRelu") step.alpha = node.attr_float("alpha", 0.01f);
    for (ValueId id : node.inputs) {
      auto it = operand_of.find(id);
      if (it == operand_of.end())
        return make_error(StatusCode::Internal, node.describe(), ": operand '", g.value(id).name, "' is not in the group");
      step.operands.push_back(it->second);
    }
    operand_of[node.outputs[0]] = num_inputs + static_cast<int>(steps.size());
    steps.push_back(std::move(step));
  }
  auto last = operand_of.find(result);
  if (last == operand_of.end())
    return make_error(StatusCode::Internal, "the chain does not make '", g.value(result).name, "'");
  if (steps.empty() || last->second != num_inputs + static_cast<int>(steps.size()) - 1)
    steps.push_back({"Identity", {last->second}, 0.f});  // the result is not the last op's output
  return {};
}

Status elementwise_spec(const FusionPlan& plan, const FusionGroup& group, CudaKernelSpec& spec) {
  const Graph& g = *plan.graph;
  spec.kind = CudaKernelKind::Elementwise;
  spec.output_shape = plan.shape(group.output);
  const size_t rank = spec.output_shape.size();
  std::optional<SymShape> out_sym = plan.generic ? symbolic_shape(g, group.output) : std::nullopt;
  if (plan.generic && !out_sym) return Status(StatusCode::Unsupported, "the output's symbolic shape is unknown");
  std::map<ValueId, int> operand_of;
  for (size_t i = 0; i < group.inputs.size(); ++i) {
    const ValueId id = group.inputs[i];
    operand_of[id] = static_cast<int>(i);
    const Shape& s = plan.shape(id);
    spec.input_shapes.push_back(s);
    if (plan.generic) {  // per output dim, right-aligned: broadcast where the input lacks the dim or has a 1
      std::vector<bool> per_input_dim;
      auto in_sym = symbolic_shape(g, id);
      if (!in_sym || !symbolic_broadcast(*in_sym, *out_sym, per_input_dim))
        return Status(StatusCode::Unsupported, "broadcasting that depends on the sizes");
      std::vector<bool> per_output_dim(rank, true);
      for (size_t d = 0; d < s.size(); ++d) per_output_dim[rank - s.size() + d] = per_input_dim[d];
      spec.input_broadcast.push_back(std::move(per_output_dim));
    }
  }
  spec.num_inputs = static_cast<int>(group.inputs.size());
  return append_chain(*plan.graph, group.nodes, group.output, static_cast<int>(group.inputs.size()), operand_of,
                      spec.steps);
}

// A Softmax/LayerNorm's prologue: the first `prologue_inputs` of its views are the
// prologue's inputs (group_views' order), its leading `group.prologue` nodes the chain.
Status prologue_spec(const FusionPlan& plan, const FusionGroup& group, const LoweredGroup& views,
                     size_t prologue_inputs, CudaKernelSpec& spec) {
  std::map<ValueId, int> operand_of;
  for (size_t i = 0; i < prologue_inputs; ++i) {
    operand_of.emplace(views.inputs[i], static_cast<int>(i));
    spec.prologue_views.push_back(views.input_views[i]);
  }
  const std::vector<int32_t> chain(group.nodes.begin(), group.nodes.begin() + group.prologue);
  const Node& reduction = plan.graph->nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
  return append_chain(*plan.graph, chain, reduction.inputs[0], static_cast<int>(prologue_inputs), operand_of,
                      spec.steps);
}

// Softmax / LayerNorm, with or without a prologue.
Status row_spec(const FusionPlan& plan, const FusionGroup& group, CudaKernelSpec& spec) {
  const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
  const LoweredGroup views = group_views(plan, group);
  spec.kind = group.kind == GroupKind::Softmax ? CudaKernelKind::RowSoftmax : CudaKernelKind::RowLayerNorm;
  spec.rows = group.m;
  spec.cols = group.n;
  spec.num_inputs = static_cast<int>(views.inputs.size());
  size_t parameters = 0;  // LayerNorm's scale and bias, after the rows' inputs
  if (group.kind == GroupKind::LayerNorm) {
    spec.epsilon = node.attr_float("epsilon", 1e-5f);
    for (size_t i = 1; i < node.inputs.size() && i < 3; ++i) parameters += node.inputs[i] != kNoValue;
  }
  if (group.prologue == 0) return {};
  if (plan.generic) return Status(StatusCode::Unsupported, "a reduction prologue in a generic plan");
  return prologue_spec(plan, group, views, views.inputs.size() - parameters, spec);
}

}  // namespace

Expected<CudaKernelSpec> cuda_spec_for_group(const FusionPlan& plan, const FusionGroup& group,
                                             const std::string& kernel_name) {
  CudaKernelSpec spec;
  spec.name = kernel_name;
  spec.generic = plan.generic;
  switch (group.kind) {
    case GroupKind::Elementwise: DJ_RETURN_IF_ERROR(elementwise_spec(plan, group, spec)); break;
    case GroupKind::Gemm:
      spec.kind = CudaKernelKind::Gemm;
      spec.m = group.m;
      spec.n = group.n;
      spec.k = group.k;
      spec.has_bias = group.gemm_bias != kNoValue;
      spec.relu = group.gemm_relu;
      spec.has_residual = group.gemm_residual != kNoValue;
      spec.relu_after_residual = group.gemm_relu_after_residual;
      spec.num_inputs = 2 + spec.has_bias + spec.has_residual;
      break;
    case GroupKind::BatchedGemm:
      spec.kind = CudaKernelKind::BatchedGemm;
      spec.batch = group.batch;
      spec.m = group.m;
      spec.n = group.n;
      spec.k = group.k;
      spec.num_inputs = 2;
      break;
    case GroupKind::Softmax:
    case GroupKind::LayerNorm: DJ_RETURN_IF_ERROR(row_spec(plan, group, spec)); break;
    case GroupKind::Conv:  // the Specializer plans without it for the GPU (PlanFeatures)
      return Status(StatusCode::Unsupported, "no CUDA lowering for a Conv yet");
    case GroupKind::Interpreted: return Status(StatusCode::Internal, "an interpreted group has no kernel");
  }
  DJ_RETURN_IF_ERROR(jit::cuda::validate_spec(spec).with_context(std::string(group_kind_name(group.kind)) + " group: "));
  return spec;
}

Expected<LoweredGroup> lower_group_cuda(const FusionPlan& plan, const FusionGroup& group,
                                        const std::string& kernel_name, GpuBackend& backend,
                                        const jit::cuda::NvrtcOutput* cached) {
  LoweredGroup lowered = group_views(plan, group);
  auto kernel = std::make_shared<GpuKernel>();
  DJ_ASSIGN_OR_RETURN(kernel->spec, cuda_spec_for_group(plan, group, kernel_name));
  DJ_ASSIGN_OR_RETURN(kernel->source, jit::cuda::generate_cuda_kernel(kernel->spec));
  if (cached) {
    kernel->binary = *cached;
  } else if (backend.needs_binary()) {
    jit::cuda::NvrtcOptions options;
    options.sm = backend.sm();
    DJ_ASSIGN_OR_RETURN(kernel->binary, jit::cuda::nvrtc_compile(kernel->source.source, kernel_name, options));
  }
  DJ_RETURN_IF_ERROR(backend.load(*kernel).with_context("loading " + kernel_name + ": "));
  lowered.gpu = std::move(kernel);
  return lowered;
}

}  // namespace dj::specializer

#endif  // DJ_HAVE_CUDA
