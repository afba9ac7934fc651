// CudaGroupLowering: fusion groups as CUDA kernel specs (see CudaGroupLowering.h).
#if DJ_HAVE_CUDA
#include "specializer/CudaGroupLowering.h"

#include <map>

namespace dj::specializer {
namespace {

using jit::cuda::CudaKernelKind;
using jit::cuda::CudaKernelSpec;

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
  const int num_inputs = static_cast<int>(group.inputs.size());
  spec.num_inputs = num_inputs;
  for (int32_t n : group.nodes) {
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
    operand_of[node.outputs[0]] = num_inputs + static_cast<int>(spec.steps.size());
    spec.steps.push_back(std::move(step));
  }
  const int result = operand_of.at(group.output);
  if (spec.steps.empty() || result != num_inputs + static_cast<int>(spec.steps.size()) - 1)
    spec.steps.push_back({"Identity", {result}, 0.f});  // the group's output is not its last op's
  return {};
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
      if (group.gemm_residual != kNoValue) return Status(StatusCode::Unsupported, "no CUDA residual epilogue yet");
      spec.kind = CudaKernelKind::Gemm;
      spec.m = group.m;
      spec.n = group.n;
      spec.k = group.k;
      spec.has_bias = group.gemm_bias != kNoValue;
      spec.relu = group.gemm_relu;
      spec.num_inputs = spec.has_bias ? 3 : 2;
      break;
    case GroupKind::Softmax:
      if (group.prologue > 0) return Status(StatusCode::Unsupported, "no CUDA reduction prologue yet");
      spec.kind = CudaKernelKind::RowSoftmax;
      spec.rows = group.m;
      spec.cols = group.n;
      spec.num_inputs = 1;
      break;
    case GroupKind::LayerNorm: {
      if (group.prologue > 0) return Status(StatusCode::Unsupported, "no CUDA reduction prologue yet");
      const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[0])];
      spec.kind = CudaKernelKind::RowLayerNorm;
      spec.rows = group.m;
      spec.cols = group.n;
      spec.epsilon = node.attr_float("epsilon", 1e-5f);
      spec.num_inputs = static_cast<int>(group_views(plan, group).inputs.size());
      break;
    }
    case GroupKind::BatchedGemm:  // the Specializer plans without it for the GPU (PlanFeatures)
      return Status(StatusCode::Unsupported, "no CUDA lowering for a batched GEMM yet");
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
