// SpecializedRegion: a region compiled for one shape signature — the CompiledRegion
// (runtime/RegionDispatch.h) the interpreter calls when the guard matches.
//
// It runs the plan's groups in order over a small array of value slots: a kernel
// group calls its compiled Halide kernel on reshaped views of its inputs; an
// interpreted group calls the op's reference kernel exactly as the interpreter
// would. Slots are freed after their last use. Immutable after build, so any
// number of threads may run it at once.
//
// Built from a generic plan it is the region's shape-generic tier: its guard has
// wildcards on the symbolic dims (RegionDispatch.h), the kernels' views are worked
// out per run from the actual shapes, and it declines (admits) signatures with a
// zero-sized or over-2^31 input, which stay interpreted.
//
// With a path attached (PathTrace.h) it also runs the If after the region and the
// branch the trace took, or side-exits when the condition picks the other one.
//
// Built with a GpuBackend, its kernel groups are CUDA kernels (CudaGroupLowering.h):
// their inputs are uploaded when they are still on the host, their outputs stay
// on the device, and an interpreted op inside the region gets host copies. Every
// copy is counted by the backend (GpuTransferCounts), never silent.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/RegionDispatch.h"
#include "specializer/FusionPlan.h"
#include "specializer/GroupLowering.h"
#include "specializer/PathTrace.h"

namespace dj::specializer {

class GpuBackend;

struct SpecializationInfo {
  int32_t region = -1;
  std::string plan_text;       // FusionPlan::describe()
  size_t kernels = 0;          // compiled groups
  size_t shared_kernels = 0;   // of those, kernels reused from an earlier compile (SharedKernels.h)
  size_t interpreted_ops = 0;  // ops left to the reference kernels
  double compile_ms = 0;       // wall time of planning + lowering + compiling all kernels
  bool generic = false;        // the shape-generic tier
  std::string device = "cpu";  // where its kernels run: "cpu", or the GPU's arch ("cuda sm_90")
  std::string path;            // set for a path: "through If 'name' into else_branch (R2: 5 kernels)"
};

class SpecializedRegion : public CompiledRegion {
 public:
  // Where the kernel of each kernel group comes from: compiled now (lower_group),
  // or loaded from the code cache. Called in group order with the kernel's index.
  using KernelProvider = std::function<Expected<LoweredGroup>(const FusionGroup& group, size_t kernel_index)>;

  // Lowers and compiles every kernel group of `plan`. `opset`: the model's, for
  // the interpreted ops.
  static Expected<std::shared_ptr<SpecializedRegion>> build(const FusionPlan& plan, int64_t opset,
                                                            const std::string& name_prefix,
                                                            const LoweringOptions& options = {});
  // `gpu`: the backend that runs the provided kernels when they are GPU kernels.
  static Expected<std::shared_ptr<SpecializedRegion>> build(const FusionPlan& plan, int64_t opset,
                                                            const KernelProvider& kernels,
                                                            std::shared_ptr<GpuBackend> gpu = nullptr);

  Status run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const override;
  bool admits(const int64_t* words, size_t n) const override;

  // Makes this region's code a path through the If after it (PathTrace.h); before
  // it is installed. `tail.body_code` must be set.
  void attach_path(PathTail tail);
  int traced_branch() const override { return path_ ? path_->branch : -1; }
  Status run_path(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, std::vector<Tensor>& if_outputs,
                  bool& took_path) const override;
  const PathTail* path() const { return path_.get(); }
  uint64_t path_runs() const { return path_runs_.load(); }    // runs that went through the If
  uint64_t side_exits() const { return side_exits_.load(); }  // runs that left at the If
  std::string describe() const override;
  const SpecializationInfo& info() const { return info_; }
  const std::vector<LoweredGroup>& kernels() const { return kernels_; }
  // GPU regions: device values copied back for an interpreted op inside the region.
  uint64_t host_copies() const { return host_copies_.load(); }

  // Time per step (a kernel, or an op left to the interpreter), summed over the runs
  // made while step timing is on. Off by default (it costs a clock read per step);
  // the REPL turns it on for its `steps` command. Process-wide.
  struct StepTime {
    std::string what;  // "kernel 3 gemm: MatMul Add" or "interpreted Transpose 'name'"
    uint64_t runs = 0;
    uint64_t ns = 0;
  };
  std::vector<StepTime> step_times() const;
  static void set_step_timing(bool on);

 private:
  struct Step {
    int kernel = -1;             // index into kernels_, or -1 for an interpreted op
    const Node* node = nullptr;  // interpreted op
    std::vector<int32_t> in_slots;
    std::vector<int32_t> out_slots;
    std::vector<int32_t> free_after;  // slots whose last use is this step
    std::string what;                 // StepTime::what
  };
  SpecializedRegion(SignatureWords guard, std::vector<bool> wildcard)
      : CompiledRegion(std::move(guard), std::move(wildcard)) {}

  Status run_gpu_kernel(const LoweredGroup& kernel, const Step& step, std::vector<Tensor>& slots) const;
  Status upload_constants();

  int64_t opset_ = 17;
  std::shared_ptr<GpuBackend> gpu_;
  std::vector<LoweredGroup> kernels_;
  std::vector<Step> steps_;
  size_t num_slots_ = 0;
  std::vector<int32_t> input_slots_;            // Region::inputs -> slot
  std::vector<std::pair<int32_t, Tensor>> constants_;  // slot, value
  std::vector<int32_t> output_slots_;           // Region::outputs -> slot
  SpecializationInfo info_;
  mutable std::atomic<uint64_t> host_copies_{0};
  std::unique_ptr<const PathTail> path_;
  mutable std::atomic<uint64_t> path_runs_{0}, side_exits_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> step_ns_, step_runs_;  // per step, while step timing is on
};

}  // namespace dj::specializer
