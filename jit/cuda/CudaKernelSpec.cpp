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
    case CudaKernelKind::BatchedGemm: return "BatchedGemm";
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
  const int prologue = static_cast<int>(spec.prologue_views.size());
  switch (spec.kind) {
    case CudaKernelKind::Elementwise: return static_cast<int>(spec.input_shapes.size());
    case CudaKernelKind::RowSoftmax: return prologue > 0 ? prologue : 1;
    case CudaKernelKind::RowReduce: return 1;
    case CudaKernelKind::RowLayerNorm: return spec.num_inputs;
    case CudaKernelKind::Gemm: return 2 + spec.has_bias + spec.has_residual;
    case CudaKernelKind::BatchedGemm: return 2;
  }
  return 0;
}

RowOperandView row_operand_view(const Shape& view) {
  if (view.size() == 2) return RowOperandView::Block;
  return view.size() == 1 && view[0] == 1 ? RowOperandView::Scalar : RowOperandView::Row;
}

Status validate_steps(const std::vector<ElementwiseStep>& steps, int num_inputs) {
  DJ_CHECK(!steps.empty(), InvalidArgument, "an elementwise chain needs at least one step");
  for (size_t s = 0; s < steps.size(); ++s) {
    const ElementwiseStep& step = steps[s];
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
  return validate_steps(spec.steps, static_cast<int>(inputs));
}

// The row kinds' input counts and, with a prologue, its views and chain.
Status validate_rows(const CudaKernelSpec& spec) {
  const int prologue = static_cast<int>(spec.prologue_views.size());
  const int rows_inputs = prologue > 0 ? prologue : 1;  // what x takes: itself, or the prologue's inputs
  if (prologue > 0) {
    DJ_CHECK(spec.kind != CudaKernelKind::RowReduce, Unsupported, "a row reduction takes no prologue");
    const Shape block = {spec.rows, spec.cols}, row = {spec.cols}, scalar = {1};
    const std::string forms = spec.generic ? std::string("[rows, cols], [cols] or [1]")
                                           : shape_to_string(block) + ", " + shape_to_string(row) + " or [1]";
    for (int i = 0; i < prologue; ++i) {
      const Shape& view = spec.prologue_views[static_cast<size_t>(i)];
      const bool known = spec.generic ? view.size() == 2 || view.size() == 1
                                      : view == block || view == row || view == scalar;
      DJ_CHECK(known, InvalidArgument, "prologue input ", i, " has view ", shape_to_string(view),
               "; a prologue input is the row block, one row or one value: ", forms);
    }
    DJ_RETURN_IF_ERROR(validate_steps(spec.steps, prologue).with_context("prologue: "));
  }
  if (spec.kind == CudaKernelKind::RowLayerNorm) {
    DJ_CHECK(spec.num_inputs == rows_inputs + 1 || spec.num_inputs == rows_inputs + 2, InvalidArgument,
             "takes ", prologue > 0 ? "the prologue's inputs" : "x", ", scale and an optional bias (num_inputs ",
             rows_inputs + 1, " or ", rows_inputs + 2, "), num_inputs is ", spec.num_inputs);
    DJ_CHECK(std::isfinite(spec.epsilon) && spec.epsilon >= 0, InvalidArgument, "epsilon ", spec.epsilon,
             " is not a finite non-negative number");
  } else {
    DJ_CHECK(spec.num_inputs == 0 || spec.num_inputs == rows_inputs, InvalidArgument, "takes ", rows_inputs,
             rows_inputs == 1 ? " input" : " inputs", ", num_inputs is ", spec.num_inputs);
  }
  DJ_CHECK(spec_input_count(spec) <= DJ_MAX_KERNEL_INPUTS, Unsupported, "a kernel takes at most ",
           DJ_MAX_KERNEL_INPUTS, " inputs, this one has ", spec_input_count(spec));
  if (!spec.generic)
    DJ_CHECK(spec.rows >= 1 && spec.cols >= 1, InvalidArgument, "rows and cols must be >= 1, got ", spec.rows, " x ",
             spec.cols);
  return Status::ok_status();
}

Status validate_gemm(const CudaKernelSpec& spec) {
  const bool batched = spec.kind == CudaKernelKind::BatchedGemm;
  if (batched)
    DJ_CHECK(!spec.has_bias && !spec.relu && !spec.has_residual && !spec.relu_after_residual, Unsupported,
             "a batched GEMM has no epilogue");
  DJ_CHECK(!spec.relu_after_residual || spec.has_residual, InvalidArgument,
           "relu_after_residual without a residual");
  DJ_CHECK(spec.num_inputs == 0 || spec.num_inputs == spec_input_count(spec), InvalidArgument, "takes ",
           spec_input_count(spec), " inputs (A, B", spec.has_bias ? ", bias" : "", spec.has_residual ? ", residual" : "",
           "), num_inputs is ", spec.num_inputs);
  if (!spec.generic) {
    DJ_CHECK(spec.m >= 1 && spec.n >= 1 && spec.k >= 1, InvalidArgument, "m, n, k must be >= 1, got ", spec.m, ", ",
             spec.n, ", ", spec.k);
    if (batched) DJ_CHECK(spec.batch >= 1, InvalidArgument, "batch must be >= 1, got ", spec.batch);
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
    case CudaKernelKind::RowLayerNorm:
    case CudaKernelKind::RowReduce: return validate_rows(spec).with_context(what);
    case CudaKernelKind::Gemm:
    case CudaKernelKind::BatchedGemm: return validate_gemm(spec).with_context(what);
  }
  return Status(StatusCode::InvalidArgument, what + "unknown kind");
}

}  // namespace dj::jit::cuda
