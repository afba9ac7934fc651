// CudaKernelSpec: names, input counts and the validation every generator relies on.
#include "jit/cuda/CudaKernelSpec.h"

#include <cmath>

#include "jit/cuda/CudaBroadcastLayout.h"
#include "jit/cuda/CudaElementwiseOps.h"
#include "jit/cuda/KernelParams.h"

namespace dj::jit::cuda {

const char* cuda_kernel_kind_name(CudaKernelKind kind) {
  switch (kind) {
    case CudaKernelKind::Elementwise: return "Elementwise";
    case CudaKernelKind::RowSoftmax: return "RowSoftmax";
    case CudaKernelKind::RowLayerNorm: return "RowLayerNorm";
    case CudaKernelKind::RowReduce: return "RowReduce";
    case CudaKernelKind::Gemm: return "Gemm";
  }
  return "?";
}

const char* row_reduce_op_name(RowReduceOp op) {
  switch (op) {
    case RowReduceOp::Sum: return "Sum";
    case RowReduceOp::Mean: return "Mean";
    case RowReduceOp::Max: return "Max";
    case RowReduceOp::Min: return "Min";
  }
  return "?";
}

int spec_input_count(const CudaKernelSpec& spec) {
  switch (spec.kind) {
    case CudaKernelKind::Elementwise: return static_cast<int>(spec.input_shapes.size());
    case CudaKernelKind::RowSoftmax:
    case CudaKernelKind::RowReduce: return 1;
    case CudaKernelKind::RowLayerNorm: return spec.num_inputs;
    case CudaKernelKind::Gemm: return spec.has_bias ? 3 : 2;
  }
  return 0;
}

namespace {

bool is_c_identifier(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  // Names with "__" or "_X" at the start are reserved for the implementation.
  if (s.find("__") != std::string::npos || (s[0] == '_' && s.size() > 1 && s[1] >= 'A' && s[1] <= 'Z')) return false;
  return true;
}

Status validate_elementwise(const CudaKernelSpec& spec) {
  const size_t inputs = spec.input_shapes.size();
  DJ_CHECK(inputs >= 1, InvalidArgument, "an elementwise kernel needs at least one input");
  DJ_CHECK(inputs <= DJ_MAX_KERNEL_INPUTS, Unsupported, "an elementwise kernel takes at most ", DJ_MAX_KERNEL_INPUTS,
           " inputs, this one has ", inputs);
  DJ_CHECK(spec.output_shape.size() <= DJ_MAX_KERNEL_RANK, Unsupported, "output rank ", spec.output_shape.size(),
           " exceeds ", DJ_MAX_KERNEL_RANK, " (", shape_to_string(spec.output_shape), ")");
  // Also checks every input's rank and broadcasting against the output.
  auto layout = broadcast_layout(spec.input_shapes, spec.output_shape);
  if (!layout.ok()) return layout.status();
  if (spec.generic && !spec.input_broadcast.empty()) {
    DJ_CHECK(spec.input_broadcast.size() == inputs, InvalidArgument, "input_broadcast has ",
             spec.input_broadcast.size(), " entries for ", inputs, " inputs");
    for (size_t i = 0; i < inputs; ++i)
      DJ_CHECK(spec.input_broadcast[i].size() == spec.output_shape.size(), InvalidArgument, "input_broadcast[", i,
               "] has ", spec.input_broadcast[i].size(), " entries, the output rank is ", spec.output_shape.size());
  }
  DJ_CHECK(!spec.steps.empty(), InvalidArgument, "an elementwise kernel needs at least one step");
  const int num_inputs = static_cast<int>(inputs);
  for (size_t s = 0; s < spec.steps.size(); ++s) {
    const ElementwiseStep& step = spec.steps[s];
    const int arity = elementwise_op_arity(step.op);
    DJ_CHECK(arity > 0, Unsupported, "step ", s, ": op '", step.op, "' has no CUDA definition");
    DJ_CHECK(static_cast<int>(step.operands.size()) == arity, InvalidArgument, "step ", s, " (", step.op, ") has ",
             step.operands.size(), " operands, the op takes ", arity);
    for (int v : step.operands)
      DJ_CHECK(v >= 0 && v < num_inputs + static_cast<int>(s), InvalidArgument, "step ", s, " (", step.op,
               ") reads operand ", v, ", which is neither an input (< ", num_inputs, ") nor an earlier step");
    if (step.op == "LeakyRelu")
      DJ_CHECK(std::isfinite(step.alpha), InvalidArgument, "step ", s, " (LeakyRelu) has a non-finite alpha");
  }
  return Status::ok_status();
}

}  // namespace

Status validate_spec(const CudaKernelSpec& spec) {
  DJ_CHECK(is_c_identifier(spec.name), InvalidArgument, "kernel name '", spec.name,
           "' is not a valid C identifier (letters, digits, '_'; no leading digit, no '__')");
  const std::string what = std::string(cuda_kernel_kind_name(spec.kind)) + " kernel '" + spec.name + "': ";
  switch (spec.kind) {
    case CudaKernelKind::Elementwise: return validate_elementwise(spec).with_context(what);
    case CudaKernelKind::RowSoftmax:
    case CudaKernelKind::RowReduce:
      DJ_CHECK(spec.num_inputs == 0 || spec.num_inputs == 1, InvalidArgument, what, "takes one input, num_inputs is ",
               spec.num_inputs);
      break;
    case CudaKernelKind::RowLayerNorm:
      DJ_CHECK(spec.num_inputs == 2 || spec.num_inputs == 3, InvalidArgument, what,
               "takes x, scale and an optional bias (num_inputs 2 or 3), num_inputs is ", spec.num_inputs);
      DJ_CHECK(std::isfinite(spec.epsilon) && spec.epsilon >= 0, InvalidArgument, what, "epsilon ", spec.epsilon,
               " is not a finite non-negative number");
      break;
    case CudaKernelKind::Gemm:
      if (!spec.generic)
        DJ_CHECK(spec.m >= 1 && spec.n >= 1 && spec.k >= 1, InvalidArgument, what, "m, n, k must be >= 1, got ",
                 spec.m, ", ", spec.n, ", ", spec.k);
      return Status::ok_status();
  }
  if (!spec.generic)
    DJ_CHECK(spec.rows >= 1 && spec.cols >= 1, InvalidArgument, what, "rows and cols must be >= 1, got ", spec.rows,
             " x ", spec.cols);
  return Status::ok_status();
}

}  // namespace dj::jit::cuda
