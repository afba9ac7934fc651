// GroupLowering: one fusion group of a FusionPlan -> one Halide pipeline with
// its schedule; a plan's kernels compiled together (jit::compile_pipelines).
//
// Every extent and stride is fixed to the plan's concrete shapes (contiguous
// row-major), so Halide schedules full vectors without tail guards. Such an exact
// kernel is compiled without Halide's asserts and bounds queries (half its compile
// time): SpecializedRegion::run checks each argument's element count, layout and
// type against the view instead. For a generic plan, whose kernels keep their asserts, only the innermost stride (1) and the mins (0) are
// fixed; extents come from the buffers at run time (guarded tails, the GEMM's
// Generic schedule), and the views are computed per run (generic_views). Operands are passed as *views*: A of a MatMul is flattened to [M, K],
// a Softmax input to [rows, N], elementwise inputs keep their own (broadcast)
// shapes. The elementwise op definitions (op -> Halide Expr) live in the .cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jit/CompiledKernel.h"
#include "specializer/FusionPlan.h"

namespace dj::specializer {

struct GpuKernel;  // GpuBackend.h

struct LoweredGroup {
  GroupKind kind = GroupKind::Elementwise;
  bool generic = false;
  std::shared_ptr<const jit::CompiledKernel> kernel;  // the CPU kernel, or
  std::shared_ptr<const GpuKernel> gpu;               // a CUDA kernel, run by the region's GpuBackend
  std::vector<ValueId> inputs;      // kernel inputs in argument order
  std::vector<Shape> input_views;   // the shape each is reshaped to for the kernel
  ValueId output = kNoValue;
  Shape output_view;                // the kernel's output buffer shape
  Shape output_shape;               // the value's shape (a reshape of output_view)
  bool shared = false;              // the kernel was compiled earlier for another group (SharedKernels.h)
};

struct LoweringOptions {
  bool listings = false;  // keep the Halide stmt / LLVM IR / assembly (for `code R ...`)
};

// The kernel arguments of a kernel group and the views they are passed as (the
// same for every backend); `kernel`/`gpu` left empty.
LoweredGroup group_views(const FusionPlan& plan, const FusionGroup& group);

// For a generic kernel: the input views and the output view/shape for these actual inputs.
Status generic_views(const LoweredGroup& group, const std::vector<Tensor>& inputs, std::vector<Shape>& input_views,
                     Shape& output_view, Shape& output_shape);

// The canonical text of what the lowering reads from `group` (SharedKernels.h):
// equal keys make equal kernels. Empty when the group cannot be described exactly.
std::string kernel_structure_key(const FusionPlan& plan, const FusionGroup& group, const LoweringOptions& options);

// Every kernel group of `plan`, in group order: kernels the process compiled
// before (SharedKernels.h) or that repeat an earlier group of the plan are reused;
// the rest are compiled together as one module (jit::compile_pipelines), named
// `name_prefix`_g<kernel index>.
Expected<std::vector<LoweredGroup>> lower_plan(const FusionPlan& plan, const std::string& name_prefix,
                                               const LoweringOptions& options = {});

}  // namespace dj::specializer
